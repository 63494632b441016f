import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { Caller } from '@splitstream/auth';
import { AppError } from '@splitstream/errors';
import { PrismaService } from '@splitstream/persistence';

// A list's cursor (nextBefore, then `before`): the id of the page's last row, AES-256-GCM sealed under the
// installation's cursor key with the caller's app and the list's name as associated data. Ids come from
// sequences every app shares, so a raw id would let an app count other apps' rows between two of its cursors;
// a sealed one shows nothing, and one forged, altered, or issued to another app or for another list is a 400.
const IV_BYTES = 12;
const ID_BYTES = 8;
const TAG_BYTES = 16;
// base64url of IV + id + tag (36 bytes).
export const CURSOR = /^[A-Za-z0-9_-]{48}$/;
export const CURSOR_ISSUE = "must be the nextBefore of this list's previous page";

// Every list that pages by id.
export type PagedList = 'events' | 'payments' | 'payouts' | 'recipients' | 'boosts';

@Injectable()
export class Cursors implements OnModuleInit {
  private key!: Buffer;

  constructor(private readonly prisma: PrismaService) {}

  // The first api to boot stores the key; every instance uses the one stored, so any of them reads any cursor.
  async onModuleInit(): Promise<void> {
    await this.prisma.$executeRaw`INSERT INTO installation_secret (id, cursor_key) VALUES (1, ${randomBytes(32)}) ON CONFLICT (id) DO NOTHING`;
    const { cursorKey } = await this.prisma.installationSecret.findUniqueOrThrow({ where: { id: 1 } });
    this.key = Buffer.from(cursorKey);
  }

  // One page of `list` for the caller: `before` (a cursor this list gave the caller's app) opened to the id that
  // `read` pages from, and the page's nextBefore sealed.
  async page<T extends { nextBefore: string | null }>(
    caller: Caller,
    list: PagedList,
    before: string | undefined,
    read: (before: bigint | undefined) => Promise<T>,
  ): Promise<T> {
    const page = await read(before === undefined ? undefined : this.open(caller, list, before));
    return { ...page, nextBefore: page.nextBefore === null ? null : this.seal(caller, list, BigInt(page.nextBefore)) };
  }

  private seal(caller: Caller, list: PagedList, id: bigint): string {
    return sealCursor(this.key, caller.app, list, id);
  }

  private open(caller: Caller, list: PagedList, cursor: string): bigint {
    const sealed = CURSOR.test(cursor) ? Buffer.from(cursor, 'base64url') : Buffer.alloc(0);
    if (sealed.length !== IV_BYTES + ID_BYTES + TAG_BYTES) throw invalidCursor();
    const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(0, IV_BYTES)).setAAD(associatedData(caller.app, list));
    decipher.setAuthTag(sealed.subarray(IV_BYTES + ID_BYTES));
    try {
      return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, IV_BYTES + ID_BYTES)), decipher.final()]).readBigUInt64BE();
    } catch {
      throw invalidCursor();
    }
  }
}

const associatedData = (app: string, list: PagedList) => Buffer.from(JSON.stringify([list, app]));

// A cursor of `list` for `app` that opens to `id` (exported for the bench, which pages deep without walking there).
export function sealCursor(key: Buffer, app: string, list: PagedList, id: bigint): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(associatedData(app, list));
  const plain = Buffer.alloc(ID_BYTES);
  plain.writeBigUInt64BE(id);
  return Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]).toString('base64url');
}
const invalidCursor = () => AppError.validation([{ path: 'before', message: CURSOR_ISSUE }], 'the query is invalid');
