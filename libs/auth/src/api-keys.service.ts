import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import { AppError, ErrorCode } from '@splitstream/errors';
import { PrismaService } from '@splitstream/persistence';
import { isScope, Scope } from './scopes.js';

export interface Caller {
  keyId: string;
  app: string;
  scopes: Scope[];
}

// Whose data a caller reads: its own app's, or (admin) every app's, as null.
export const tenantOf = (caller: Caller): string | null => (caller.scopes.includes(Scope.Admin) ? null : caller.app);

// Keys are 256 random bits, so one SHA-256 is a safe way to store them (no password-style stretching needed).
const hashOf = (key: string) => createHash('sha256').update(key).digest('hex');
const KEY_PATTERN = /^ss_[A-Za-z0-9_-]{43}$/;
// Keys verified recently, at most this many (the oldest make room): a bound on memory whatever the traffic.
const MAX_CACHED_KEYS = 10_000;

@Injectable()
export class ApiKeysService {
  // Verified keys by hash, with the time their verification expires (AUTH_CACHE_SECONDS).
  private readonly verified = new Map<string, { caller: Caller; until: number }>();

  constructor(
    private readonly prisma: PrismaService,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'AUTH_CACHE_SECONDS'>,
  ) {}

  // An app's id is what its payments name it when it registered no name: never another app's registered name or
  // id, in any letter case (the rule of TenantsService.setName), and bounded as names are.
  async create(name: string, scopes: Scope[]): Promise<{ id: string; key: string }> {
    // Unicode Cf too (a right-to-left override, a zero-width space): an id must read as what it is.
    if (name.length < 1 || name.length > 100 || /[\p{Cc}\p{Cf}]/u.test(name)) {
      throw AppError.validation(
        [{ path: 'name', message: 'an app id is 1 to 100 characters, with no control or invisible format characters' }],
        'the app id is invalid; no key was created',
      );
    }
    const [owner] = await this.prisma.$queryRaw<{ id: string; registered: boolean }[]>`
      SELECT id, true AS registered FROM app WHERE lower(name) = lower(${name}) AND id <> ${name}
      UNION ALL SELECT name AS id, false AS registered FROM api_key WHERE lower(name) = lower(${name}) AND name <> ${name} LIMIT 1`;
    if (owner) {
      const whose = owner.registered ? `the registered name of app ${owner.id}` : `app ${owner.id} in other letter case`;
      throw new AppError(ErrorCode.Conflict, `${JSON.stringify(name)} is ${whose}: choose another app name`);
    }
    const key = `ss_${randomBytes(32).toString('base64url')}`;
    const row = await this.prisma.apiKey.create({ data: { name, scopes: scopes.join(' '), keyHash: hashOf(key), prefix: key.slice(0, 8) } });
    return { id: String(row.id), key };
  }

  async list() {
    const keys = await this.prisma.apiKey.findMany({ orderBy: { id: 'asc' } });
    return keys.map((k) => ({ id: String(k.id), name: k.name, scopes: k.scopes.split(' '), prefix: k.prefix, createdAt: k.createdAt, revokedAt: k.revokedAt }));
  }

  // Stops the key at once in this process; other api processes stop it within AUTH_CACHE_SECONDS.
  async revoke(id: bigint): Promise<boolean> {
    const { count } = await this.prisma.apiKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date() } });
    for (const [hash, { caller }] of this.verified) if (caller.keyId === String(id)) this.verified.delete(hash);
    return count === 1;
  }

  // A key verified within AUTH_CACHE_SECONDS is trusted without a query (one per request was most of a small
  // request's database time); so a key revoked elsewhere (the CLI, another api process) works at most that much
  // longer. Unknown and revoked keys are never cached: each is looked up again. `fresh` asks PostgreSQL whatever the
  // cache holds (the health check's admin details: shown only while the database can confirm the key).
  async authenticate(key: string, fresh = false): Promise<Caller | null> {
    if (!KEY_PATTERN.test(key)) return null;
    const hash = hashOf(key);
    const now = Date.now();
    const cached = this.verified.get(hash);
    if (cached && cached.until > now && !fresh) return cached.caller;
    this.verified.delete(hash);
    const row = await this.prisma.apiKey.findUnique({ where: { keyHash: hash } });
    if (!row || row.revokedAt) return null;
    const caller: Caller = { keyId: String(row.id), app: row.name, scopes: row.scopes.split(' ').filter(isScope) };
    if (this.config.AUTH_CACHE_SECONDS > 0) {
      if (this.verified.size >= MAX_CACHED_KEYS) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(hash, { caller, until: now + this.config.AUTH_CACHE_SECONDS * 1000 });
    }
    return caller;
  }
}
