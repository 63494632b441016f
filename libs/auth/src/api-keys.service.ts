import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
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

@Injectable()
export class ApiKeysService {
  constructor(private readonly prisma: PrismaService) {}

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

  async revoke(id: bigint): Promise<boolean> {
    const { count } = await this.prisma.apiKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date() } });
    return count === 1;
  }

  // Looked up on every request (no cache), so a revoked key stops working at once.
  async authenticate(key: string): Promise<Caller | null> {
    if (!KEY_PATTERN.test(key)) return null;
    const row = await this.prisma.apiKey.findUnique({ where: { keyHash: hashOf(key) } });
    if (!row || row.revokedAt) return null;
    return { keyId: String(row.id), app: row.name, scopes: row.scopes.split(' ').filter(isScope) };
  }
}
