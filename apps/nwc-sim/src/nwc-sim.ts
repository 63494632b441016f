import Fastify, { type FastifyInstance } from 'fastify';
import { z } from 'zod';
import { LnaddressHost } from '@splitstream/lightning-sim';
import { Nip47Error } from '@splitstream/wallet';
import { NostrRelay } from './relay.js';
import { NwcWalletService } from './wallet-service.js';

const ruleSchema = z
  .object({
    fail: z.object({ code: z.enum(Object.values(Nip47Error) as [string, ...string[]]), message: z.string() }).optional(),
    failFirst: z.number().int().min(0).optional(),
    delayMs: z.number().int().min(0).max(600_000).optional(),
    hang: z.boolean().optional(),
  })
  .strict();
const settingsSchema = z
  .object({
    balanceMsat: z.number().int().min(0).optional(),
    feePpm: z.number().int().min(0).max(1_000_000).optional(),
    methods: z.array(z.string()).optional(),
    encryptions: z.array(z.enum(['nip44_v2', 'nip04'])).optional(),
  })
  .strict();

export interface NwcSim {
  relay: NostrRelay;
  wallet: NwcWalletService;
  admin: FastifyInstance;
  lnaddress: LnaddressHost;
}

// The development NWC wallet: a relay, a wallet service connected to it over WebSocket, and admin routes
// (localhost only, no auth) to inject failures and read back what was paid; the admin server is also a
// Lightning-address host (keysend and LNURL-pay endpoints, admin under /admin/lnaddress).
export async function startNwcSim(options: { host: string; relayPort: number; walletSecret: Uint8Array; clients: string[] }): Promise<NwcSim> {
  const relay = new NostrRelay(options.relayPort);
  await relay.start(options.host);
  const wallet = new NwcWalletService(relay.url, options.clients, options.walletSecret);
  await wallet.start();
  const admin = Fastify();
  admin.put('/admin/destinations/:pubkey', async (request, reply) => {
    const parsed = ruleSchema.safeParse(request.body);
    if (!parsed.success) return reply.code(400).send({ error: 'invalid rule', issues: parsed.error.issues });
    wallet.setRule((request.params as { pubkey: string }).pubkey, parsed.data as Parameters<NwcWalletService['setRule']>[1]);
    return { ok: true };
  });
  admin.delete('/admin/destinations/:pubkey', async (request) => {
    wallet.clearRule((request.params as { pubkey: string }).pubkey);
    return { ok: true };
  });
  admin.patch('/admin/settings', async (request, reply) => {
    const parsed = settingsSchema.safeParse(request.body);
    if (!parsed.success) return reply.code(400).send({ error: 'invalid settings', issues: parsed.error.issues });
    await wallet.configure(parsed.data);
    return wallet.settings;
  });
  admin.get('/admin/payments', async () => ({ payments: wallet.transactions }));
  const lnaddress = new LnaddressHost();
  admin.post('/admin/reset', async () => {
    await wallet.reset();
    lnaddress.reset();
    return { ok: true };
  });
  lnaddress.register(admin);
  admin.get('/health', async () => ({ status: 'ok' }));
  return { relay, wallet, admin, lnaddress };
}
