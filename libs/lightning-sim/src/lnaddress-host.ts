import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { issueInvoice } from './simulated-invoices.js';

// A Lightning-address host for development and tests: serves `/.well-known/keysend/<user>` and
// `/.well-known/lnurlp/<user>` as wallets' domains do, issues real BOLT11 invoices from its LNURL-pay callback,
// and can be told to misbehave per user. Point a domain at it with LNADDRESS_HOST_MAP.

const userSchema = z
  .object({
    // keysend offered: the node and the custom records its wallet needs
    keysend: z.object({ pubkey: z.string(), customData: z.array(z.object({ customKey: z.string(), customValue: z.string() })).optional() }).optional(),
    minSendable: z.number().int().min(1).optional(),
    maxSendable: z.number().int().min(1).optional(),
    commentAllowed: z.number().int().min(0).optional(),
    invoiceMsatDelta: z.number().int().optional(), // issue invoices for this much more than asked
    wrongDescriptionHash: z.boolean().optional(),
    noDescriptionHash: z.boolean().optional(), // issue invoices with a plain description and no description hash
    minFinalCltvExpiry: z.number().int().min(0).optional(), // write this min_final_cltv_expiry into invoices (e.g. 4000)
    invoiceExpirySeconds: z.number().int().min(0).optional(),
    down: z.boolean().optional(), // answer 500 to everything for this user
    redirectTo: z.string().optional(), // answer the lnurlp request with a redirect here
  })
  .strict();

export type LnaddressUser = z.infer<typeof userSchema>;

export interface IssuedLnaddressInvoice {
  user: string;
  msat: string;
  comment: string | null;
  paymentHash: string;
  invoice: string;
}

const DEFAULT_USER: LnaddressUser = { minSendable: 1_000, maxSendable: 100_000_000_000, commentAllowed: 255 };
const metadataOf = (user: string, host: string) =>
  JSON.stringify([
    ['text/plain', `Sats for ${user}`],
    ['text/identifier', `${user}@${host}`],
  ]);

export class LnaddressHost {
  readonly users = new Map<string, LnaddressUser>();
  readonly requests: { path: string; at: string }[] = [];
  readonly invoices: IssuedLnaddressInvoice[] = [];

  // Users not configured are paid by LNURL-pay with DEFAULT_USER's limits.
  user(name: string): LnaddressUser {
    return this.users.get(name) ?? DEFAULT_USER;
  }

  reset(): void {
    this.users.clear();
    this.requests.length = 0;
    this.invoices.length = 0;
  }

  register(app: FastifyInstance, adminPrefix = '/admin/lnaddress'): void {
    app.addHook('onRequest', async (request) => {
      if (request.url.startsWith('/.well-known/') || request.url.startsWith('/lnurlp/'))
        this.requests.push({ path: request.url, at: new Date().toISOString() });
    });
    app.get('/.well-known/keysend/:user', async (request, reply) => {
      const name = (request.params as { user: string }).user;
      const user = this.user(name);
      if (user.down) return reply.code(500).send('down');
      if (!user.keysend) return reply.code(404).send({ status: 'ERROR', reason: 'keysend is not offered for this address' });
      return { status: 'OK', tag: 'keysend', pubkey: user.keysend.pubkey, customData: user.keysend.customData ?? [] };
    });
    app.get('/.well-known/lnurlp/:user', async (request, reply) => {
      const name = (request.params as { user: string }).user;
      const user = this.user(name);
      if (user.down) return reply.code(500).send('down');
      if (user.redirectTo) return reply.redirect(user.redirectTo, 302);
      const base = `${request.protocol}://${request.headers.host}`;
      return {
        tag: 'payRequest',
        callback: `${base}/lnurlp/${encodeURIComponent(name)}/callback`,
        minSendable: user.minSendable ?? DEFAULT_USER.minSendable,
        maxSendable: user.maxSendable ?? DEFAULT_USER.maxSendable,
        metadata: metadataOf(name, String(request.headers.host)),
        commentAllowed: user.commentAllowed ?? 0,
      };
    });
    app.get('/lnurlp/:user/callback', async (request, reply) => {
      const name = (request.params as { user: string }).user;
      const user = this.user(name);
      const query = request.query as { amount?: string; comment?: string };
      if (user.down) return reply.code(500).send('down');
      if (!/^[0-9]{1,18}$/.test(query.amount ?? '')) return reply.code(400).send({ status: 'ERROR', reason: 'amount is required' });
      const msat = BigInt(query.amount!);
      const min = BigInt(user.minSendable ?? DEFAULT_USER.minSendable!);
      const max = BigInt(user.maxSendable ?? DEFAULT_USER.maxSendable!);
      if (msat < min || msat > max) return { status: 'ERROR', reason: `amount must be from ${min} to ${max} msat` };
      if ((query.comment?.length ?? 0) > (user.commentAllowed ?? 0)) return { status: 'ERROR', reason: 'comment too long' };
      const metadata = metadataOf(name, String(request.headers.host));
      const descriptionHash = createHash('sha256')
        .update(user.wrongDescriptionHash ? `${metadata} ` : metadata)
        .digest('hex');
      const issued = issueInvoice({
        msat: msat + BigInt(user.invoiceMsatDelta ?? 0),
        ...(user.noDescriptionHash ? { description: `Sats for ${name}` } : { descriptionHash }),
        expirySeconds: user.invoiceExpirySeconds ?? 600,
        ...(user.minFinalCltvExpiry !== undefined && { minFinalCltvExpiry: user.minFinalCltvExpiry }),
      });
      this.invoices.push({ user: name, msat: String(msat), comment: query.comment ?? null, ...issued });
      return { pr: issued.invoice, routes: [] };
    });
    app.put(`${adminPrefix}/users/:user`, async (request, reply) => {
      const parsed = userSchema.safeParse(request.body);
      if (!parsed.success) return reply.code(400).send({ error: 'invalid user', issues: parsed.error.issues });
      this.users.set((request.params as { user: string }).user, parsed.data);
      return { ok: true };
    });
    app.get(`${adminPrefix}/requests`, async () => ({ requests: this.requests }));
    app.get(`${adminPrefix}/invoices`, async () => ({ invoices: this.invoices }));
    app.post(`${adminPrefix}/reset`, async () => {
      this.reset();
      return { ok: true };
    });
  }
}
