import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { LnaddressHost } from '@splitstream/lightning-sim';
import { type KeysendItem, MESSAGES, type Payment, type SimError, Simulator } from './simulator.js';

const BODY_LIMIT_BYTES = 250 * 1024;

const settingsSchema = z
  .object({
    balanceSats: z.number().int().min(0),
    feePpm: z.number().int().min(0).max(1_000_000),
    latencyMs: z.number().int().min(0).max(600_000),
    failureRate: z.number().min(0).max(1),
    seed: z.number().int(),
    rateLimitPerSecond: z.number().positive(),
    rateLimitBurst: z.number().int().positive(),
    internalNode: z
      .string()
      .regex(/^0[23][0-9a-fA-F]{64}$/)
      .nullable(),
  })
  .partial()
  .strict();

const ruleSchema = z
  .object({
    fail: z.object({ code: z.number().int(), message: z.string() }).optional(),
    failFirst: z.number().int().min(0).optional(),
    delayMs: z.number().int().min(0).max(600_000).optional(),
    hang: z.boolean().optional(),
    respondWith: z.object({ status: z.number().int().min(100).max(599), body: z.string() }).optional(),
    refuse: z.object({ code: z.union([z.literal(2), z.literal(8)]), message: z.string() }).optional(),
  })
  .strict();

const errorBody = (code: number, message: string) => ({ error: true, code, message });
const sendError = (reply: FastifyReply, e: SimError) => reply.code(e.httpStatus).send(errorBody(e.code, e.message));
const isSimError = (value: unknown): value is SimError => typeof value === 'object' && value !== null && 'httpStatus' in value;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const keysendJson = (p: Payment) => ({
  amount: p.amount,
  fee: p.fee,
  description: p.memo,
  description_hash: '',
  destination: p.destination,
  custom_records: p.customRecords,
  payment_hash: p.paymentHash,
  payment_preimage: p.preimage,
});

const decodedRecords = (records: Record<string, string>) => {
  let blip10: unknown = null;
  try {
    blip10 = records['7629169'] ? JSON.parse(records['7629169']) : null;
  } catch {
    blip10 = null;
  }
  return { customRecords: records, blip10 };
};

// An HTTP server that speaks the Alby Wallet API payment routes as the real (LNDhub) server does, plus /admin
// routes to inject failures and read back exactly what was paid, and a Lightning-address host (keysend and
// LNURL-pay endpoints, admin under /admin/lnaddress). For tests and local runs only.
export function createSimServer(options: { accessToken: string; simulator?: Simulator }): {
  app: FastifyInstance;
  simulator: Simulator;
  lnaddress: LnaddressHost;
} {
  const simulator = options.simulator ?? new Simulator();
  const lnaddress = new LnaddressHost();
  const app = Fastify({ bodyLimit: BODY_LIMIT_BYTES, forceCloseConnections: true, logger: false });

  // Authentication, rate limit and latency, in the real server's order, for the wallet routes only.
  const walletRoute = async (request: FastifyRequest, reply: FastifyReply) => {
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (token !== options.accessToken) return reply.code(401).send(errorBody(1, MESSAGES.badAuth));
    const limit = simulator.takeRateToken(token);
    reply.header('x-rate-limit-reset', String(limit.resetAt)).header('x-rate-limit-remaining', String(limit.remaining));
    if (!limit.allowed) return reply.code(429).send(errorBody(1, MESSAGES.tooManyRequests));
    if (simulator.settings.latencyMs) await sleep(simulator.settings.latencyMs);
    return undefined;
  };

  // After paying, a destination's rule may replace the answer: none at all (the client times out) or a raw one.
  const overridden = (reply: FastifyReply, destinations: string[]): boolean => {
    const rules = destinations.map((d) => simulator.rule(d));
    if (rules.some((r) => r?.hang)) {
      reply.hijack();
      return true;
    }
    const raw = rules.find((r) => r?.respondWith)?.respondWith;
    if (!raw) return false;
    void reply.code(raw.status).type('application/json').send(raw.body);
    return true;
  };

  app.setErrorHandler((error: { statusCode?: number }, _request, reply) => {
    const status = error.statusCode && error.statusCode < 500 ? error.statusCode : 500;
    return reply.code(status).send(status === 500 ? errorBody(6, MESSAGES.generalError) : errorBody(8, MESSAGES.badArguments));
  });

  app.post('/payments/keysend', { preHandler: walletRoute }, async (request, reply) => {
    const invalid = simulator.validateKeysend(request.body);
    if (invalid) return sendError(reply, invalid);
    const item = request.body as KeysendItem;
    const balance = simulator.checkBalance(item.amount);
    if (balance) return sendError(reply, balance);
    const result = await simulator.payKeysend(item);
    if (overridden(reply, [item.destination])) return reply;
    // LNDhub sets no HTTP status on a payment failure: it arrives as 200 with error: true.
    return result.ok ? keysendJson(result.payment) : reply.code(200).send(errorBody(result.error.code, result.error.message));
  });

  app.post('/payments/keysend/multi', { preHandler: walletRoute }, async (request, reply) => {
    const keysends = (request.body as { keysends?: unknown } | null)?.keysends;
    if (!Array.isArray(keysends)) return sendError(reply, { httpStatus: 400, code: 8, message: MESSAGES.badArguments });
    for (const item of keysends) {
      const invalid = simulator.validateKeysend(item);
      if (invalid) return sendError(reply, invalid);
    }
    const items = keysends as KeysendItem[];
    const balance = simulator.checkBalance(items.reduce((sum, k) => sum + k.amount, 0));
    if (balance) return sendError(reply, balance);
    const results = [];
    for (const item of items) results.push(await simulator.payKeysend(item)); // one after another, in order
    if (
      overridden(
        reply,
        items.map((k) => k.destination),
      )
    )
      return reply;
    const body = {
      keysends: results.map((r, i) =>
        r.ok
          ? { keysend: keysendJson(r.payment) }
          : {
              keysend: { destination: items[i]!.destination, custom_records: items[i]!.custom_records ?? {}, amount: 0, fee: 0 },
              error: errorBody(r.error.code, r.error.message),
            },
      ),
    };
    return reply.code(results.some((r) => r.ok) ? 200 : 500).send(body);
  });

  app.post('/payments/bolt11', { preHandler: walletRoute }, async (request, reply) => {
    const { invoice, amount } = (request.body ?? {}) as { invoice?: unknown; amount?: unknown };
    if (typeof invoice !== 'string' || (amount !== undefined && typeof amount !== 'number')) {
      return sendError(reply, { httpStatus: 400, code: 8, message: MESSAGES.badArguments });
    }
    const result = await simulator.payInvoice(invoice, amount as number | undefined);
    if (isSimError(result)) return sendError(reply, result);
    if (result.ok && overridden(reply, [result.payment.destination])) return reply;
    if (!result.ok) return reply.code(500).send(errorBody(result.error.code, result.error.message));
    const { payment } = result;
    return { ...keysendJson(payment), payment_request: invoice, custom_records: undefined };
  });

  app.get('/invoices/outgoing', { preHandler: walletRoute }, async (request) => {
    const q = request.query as Record<string, string | undefined>;
    const page = Math.max(1, Number(q.page ?? 1) || 1);
    const items = Math.max(1, Number(q.items ?? 25) || 25);
    const after = q['q[created_at_gt]'] ? Number(q['q[created_at_gt]']) * 1000 : -Infinity;
    const before = q['q[created_at_lt]'] ? Number(q['q[created_at_lt]']) * 1000 : Infinity;
    return simulator.payments
      .filter((p) => p.createdAt.getTime() > after && p.createdAt.getTime() < before)
      .reverse()
      .slice((page - 1) * items, page * items)
      .map((p) => ({
        type: 'outgoing',
        amount: p.amount,
        fee: p.fee,
        memo: p.memo,
        description: p.memo,
        destination: p.destination,
        payment_hash: p.paymentHash,
        preimage: p.preimage,
        custom_records: Object.fromEntries(Object.entries(p.customRecords).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
        settled: true,
        created_at: p.createdAt.toISOString(),
        settled_at: p.createdAt.toISOString(),
      }));
  });

  app.get('/health', async () => ({ status: 'ok' }));

  app.post('/admin/reset', async () => {
    simulator.reset();
    lnaddress.reset();
    return { ok: true };
  });
  lnaddress.register(app);
  app.get('/admin/settings', async () => simulator.settings);
  app.patch('/admin/settings', async (request, reply) => {
    const parsed = settingsSchema.safeParse(request.body);
    if (!parsed.success) return reply.code(400).send({ error: 'invalid settings', issues: parsed.error.issues });
    simulator.configure(parsed.data as Parameters<Simulator['configure']>[0]);
    return simulator.settings;
  });
  app.put('/admin/destinations/:pubkey', async (request, reply) => {
    const parsed = ruleSchema.safeParse(request.body);
    if (!parsed.success) return reply.code(400).send({ error: 'invalid rule', issues: parsed.error.issues });
    simulator.setRule((request.params as { pubkey: string }).pubkey, parsed.data);
    return { ok: true };
  });
  app.delete('/admin/destinations/:pubkey', async (request) => {
    simulator.clearRule((request.params as { pubkey: string }).pubkey);
    return { ok: true };
  });
  app.get('/admin/payments', async () => ({
    payments: simulator.payments.map((p) => ({ ...p, ...decodedRecords(p.customRecords) })),
  }));
  app.get('/admin/attempts', async () => ({ attempts: simulator.attempts }));

  return { app, simulator, lnaddress };
}
