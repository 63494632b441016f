import { z } from 'zod';
import { DEV_NWC, nwcUrl, parseNwcUrl } from './nwc-url.js';
import { SIMULATOR_DEFAULTS } from './simulator-config.js';

// Where WALLET_BACKEND=alby-sim / nwc-sim pay when ALBY_API_URL (and ALBY_ACCESS_TOKEN) / NWC_URL are unset: the
// simulators at their own defaults (apps/alby-sim, apps/nwc-sim with the development wallet's keys).
export const SIMULATED_ALBY_DEFAULTS = {
  url: `http://${SIMULATOR_DEFAULTS.SIM_HOST}:${SIMULATOR_DEFAULTS.SIM_PORT}`,
  token: SIMULATOR_DEFAULTS.SIM_ACCESS_TOKEN,
} as const;
export const SIMULATED_NWC_URL = nwcUrl(
  DEV_NWC.walletPubkey,
  [`ws://${SIMULATOR_DEFAULTS.SIM_HOST}:${SIMULATOR_DEFAULTS.NWC_SIM_PORT}`],
  DEV_NWC.clientSecretHex,
);

const port = z.coerce.number().int().min(1).max(65535);
const positiveInt = z.coerce.number().int().positive();
const url = (protocols: string[]) => z.url({ protocol: new RegExp(`^(${protocols.join('|')})$`), error: `must be a ${protocols.join(' or ')} URL` });

// Every setting the service reads, with its default. `.env.example` documents the same list.
export const configSchema = z.object({
  DATABASE_URL: url(['postgres', 'postgresql']).default('postgresql://postgres@127.0.0.1:5432/splitstream'),
  REDIS_URL: url(['redis', 'rediss']).default('redis://127.0.0.1:6379/0'),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[a-z0-9_-]{1,32}$/i, 'must be 1-32 letters, digits, - or _')
    .default('splitstream'),
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: port.default(3000),
  WORKER_HOST: z.string().min(1).default('127.0.0.1'),
  WORKER_PORT: port.default(3001),
  // Prometheus GET /metrics, on a small internal listener of each process (never on the public api or worker port):
  // the api's on METRICS_PORT, the worker's on WORKER_METRICS_PORT, both bound to METRICS_HOST. 0 turns it off.
  // Reachable by the monitoring network only: never publish these ports.
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9465),
  // The Alby Wallet API (or a self-hosted LNDhub with the same v2 API), for WALLET_BACKEND=alby; with alby-sim, the
  // Alby simulator's (default: http://127.0.0.1:3002 with the simulator's default token).
  ALBY_API_URL: url(['http', 'https']).optional(),
  ALBY_ACCESS_TOKEN: z.string().min(1).optional(),
  ALBY_TIMEOUT_MS: positiveInt.default(120_000),
  ALBY_MAX_REQUESTS_PER_SECOND: positiveInt.max(100).default(5),
  // Which wallet pays, named explicitly: the Alby Wallet API contract (also self-hosted LNDhub; needs
  // ALBY_ACCESS_TOKEN), a Nostr Wallet Connect wallet (Alby Hub, any NIP-47 wallet; needs NWC_URL), or one of the
  // development simulators, reached through the same settings (alby-sim: ALBY_API_URL, nwc-sim: NWC_URL, each
  // defaulting to the simulator's local address), which pay no real sats and are refused in production. The default
  // is the Alby simulator, so `npm start` needs no setting and production cannot start without naming its wallet.
  WALLET_BACKEND: z.enum(['alby', 'nwc', 'alby-sim', 'nwc-sim']).default('alby-sim'),
  NWC_URL: z
    .string()
    .superRefine((value, ctx) => {
      try {
        parseNwcUrl(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `must be a nostr+walletconnect:// connection string: it ${(error as Error).message}` });
      }
    })
    .optional(),
  // How long to wait for a wallet's reply before the payment's outcome is unknown.
  NWC_TIMEOUT_MS: positiveInt.default(30_000),
  NWC_MAX_PAYMENTS_PER_SECOND: positiveInt.max(100).default(10),
  // Payouts: how often, from what amount, how many keysends per wallet request, and how failures back off.
  PAYOUT_INTERVAL_SECONDS: positiveInt.default(300),
  MIN_PAYOUT_SATS: positiveInt.default(10),
  KEYSEND_BATCH_SIZE: positiveInt.max(100).default(10),
  RETRY_BASE_SECONDS: positiveInt.default(60),
  RETRY_MAX_SECONDS: positiveInt.default(6 * 3600),
  MAX_ATTEMPTS: positiveInt.default(8),
  // A running payout whose worker has not written its heartbeat for this long is taken over and ended as
  // interrupted by the next run (the worker writes one every 5 seconds).
  PAYOUT_HEARTBEAT_TIMEOUT_SECONDS: positiveInt.min(15).default(60),
  // Unknown payments are looked up in the wallet's records this often.
  RECONCILE_INTERVAL_SECONDS: positiveInt.default(300),
  // The longest a payment may stay in flight (a payee or a hop holding its HTLC): on the Alby rail, whose list
  // shows settled payments only, a payment absent this long after it was sent is taken as not paid; on NWC a
  // keysend the wallet still has no record of after this long is failed. It must outlast any timelock the route
  // can carry (LND caps a route's at 2016 blocks, about 14 days), and always INVOICE_MAX_CLTV_EXPIRY_BLOCKS.
  RECONCILE_ABSENT_AFTER_SECONDS: positiveInt.min(600).default(15 * 24 * 3600),
  // (NWC) an unknown payment the wallet has no record of is sent again, with the same preimage or invoice, this
  // long after it was sent (longer than NWC_TIMEOUT_MS, so the first attempt is over).
  RECONCILE_RESEND_AFTER_SECONDS: positiveInt.min(30).default(120),
  // An LNURL-pay invoice whose min_final_cltv_expiry asks for more blocks than this is refused: its payee could
  // hold the payment longer than the service waits before calling an absent payment unpaid.
  INVOICE_MAX_CLTV_EXPIRY_BLOCKS: positiveInt.max(2016).default(144),
  // Group commit of POST /v1/events: concurrent requests share one transaction of at most this many events (a
  // larger request gets one of its own); each is answered after the commit that stores it. A full group starts
  // beside the one committing (libs/persistence GroupCommit).
  INGEST_GROUP_MAX_EVENTS: positiveInt.max(100_000).default(400),
  // A verified API key is trusted this long without asking PostgreSQL again: a revoked key stops working within
  // this time in every api process (at once in the process that revoked it). 0: looked up on every request.
  AUTH_CACHE_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
  // POST /v1/events requests per API key per minute (answered 429 with Retry-After beyond).
  EVENTS_RATE_LIMIT_PER_MINUTE: positiveInt.default(600),
  // POST /v1/payouts/run requests per app per minute (a run already queued or running is returned, not started again).
  PAYOUT_RUN_RATE_LIMIT_PER_MINUTE: positiveInt.default(6),
  // POST /v1/events/retry requests per app per minute (each re-queues set-aside events and resets feed failures).
  EVENT_RETRY_RATE_LIMIT_PER_MINUTE: positiveInt.default(6),
  // Ceilings, in sats: one payment at most (a larger balance is paid in several payments in one run), one event,
  // one POST /v1/events request, and the caps of every app that has none of its own (per UTC day and month).
  MAX_PAYMENT_SATS: positiveInt.default(1_000_000),
  MAX_EVENT_SATS: positiveInt.default(100_000),
  MAX_REQUEST_SATS: positiveInt.default(1_000_000),
  DEFAULT_APP_DAY_CAP_SATS: positiveInt.default(5_000_000),
  DEFAULT_APP_MONTH_CAP_SATS: positiveInt.default(50_000_000),
  // `production`: Lightning-address resolution is https only; LNADDRESS_HOST_MAP and OUTBOUND_ALLOW_PRIVATE are refused.
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  // For tests and local runs only: outbound HTTP (Lightning addresses, LNURL callbacks) may call addresses that are
  // not global unicast (loopback, private, link-local, ...), such as the local simulators. Refused in production.
  OUTBOUND_ALLOW_PRIVATE: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('false')
    .transform((v) => v === 'true'),
  // Lightning-address recipients: resolutions (keysend or LNURL-pay) are kept this long; each HTTP call to an
  // address's domain gets this timeout and body limit.
  LNADDRESS_CACHE_SECONDS: positiveInt.default(3600),
  LNADDRESS_TIMEOUT_MS: positiveInt.max(60_000).default(10_000),
  // 256 KiB: LUD-06 metadata may carry an image of about 136 KB in base64.
  LNADDRESS_MAX_BODY_BYTES: positiveInt.max(1_048_576).default(262_144),
  // Lightning-address resolution, a worker job of its own (never on the payout path): due addresses are resolved
  // every LNADDRESS_RESOLVE_INTERVAL_SECONDS, at most LNADDRESS_DOMAIN_CONCURRENCY calls per domain at once; a domain
  // failing LNADDRESS_BREAKER_FAILURES times in a row is not called again for LNADDRESS_BREAKER_SECONDS.
  LNADDRESS_RESOLVE_INTERVAL_SECONDS: positiveInt.default(60),
  LNADDRESS_DOMAIN_CONCURRENCY: positiveInt.max(16).default(2),
  LNADDRESS_BREAKER_FAILURES: positiveInt.default(3),
  LNADDRESS_BREAKER_SECONDS: positiveInt.default(600),
  // For tests and local runs only: `example.com=http://127.0.0.1:7500,...` sends an address's domain to a local
  // server (the simulators). Refused when NODE_ENV=production.
  LNADDRESS_HOST_MAP: z
    .string()
    .transform((value, ctx) => {
      const map = new Map<string, string>();
      for (const entry of value
        .split(',')
        .map((e) => e.trim())
        .filter(Boolean)) {
        const [domain, base] = entry.split('=').map((part) => part?.trim());
        if (!domain || !base || !URL.canParse(base) || !/^https?:$/.test(new URL(base).protocol)) {
          ctx.addIssue({ code: 'custom', message: `entry ${JSON.stringify(entry)} must be domain=http(s)://host:port` });
          return z.NEVER;
        }
        map.set(domain.toLowerCase(), base.replace(/\/+$/, ''));
      }
      return map;
    })
    .optional(),
  // Value blocks by reference (events sent with a feed URL or GUIDs instead of `value`): the worker reads a feed
  // through the guarded outbound client with this deadline and body limit, keeps what it read FEED_CACHE_SECONDS,
  // then asks again with its ETag / Last-Modified. A feed that fails (unreachable, or no block for the event) is
  // tried again after FEED_RETRY_BASE_SECONDS, doubling up to FEED_RETRY_MAX_SECONDS; after FEED_MAX_ATTEMPTS
  // failures in a row its events are set aside with the reason (POST /v1/events/retry applies them later). Remote
  // items are followed FEED_REMOTE_DEPTH levels deep; one apply job resolves at most FEED_REFERENCES_PER_JOB
  // references, FEED_CONCURRENCY at once (the others wait for the next job or sweep).
  FEED_CACHE_SECONDS: positiveInt.default(900),
  FEED_TIMEOUT_MS: positiveInt.max(60_000).default(10_000),
  FEED_MAX_BODY_BYTES: positiveInt.max(52_428_800).default(5_242_880),
  FEED_RETRY_BASE_SECONDS: positiveInt.default(60),
  FEED_RETRY_MAX_SECONDS: positiveInt.default(3600),
  FEED_MAX_ATTEMPTS: positiveInt.max(100).default(6),
  FEED_REMOTE_DEPTH: positiveInt.max(10).default(3),
  FEED_REFERENCES_PER_JOB: positiveInt.max(1000).default(20),
  FEED_CONCURRENCY: positiveInt.max(32).default(4),
  // Events that name only GUIDs are looked up in the Podcast Index value API (/value/byepisodeguid, then
  // /value/bypodcastguid for the channel's block) at this base URL (a self-hosted mirror, or a test stand-in); the
  // key and secret, when set, sign each call as the API asks (X-Auth-Key, X-Auth-Date, Authorization).
  PODCAST_INDEX_API_URL: url(['http', 'https']).default('https://api.podcastindex.org/api/1.0'),
  PODCAST_INDEX_API_KEY: z.string().min(1).optional(),
  PODCAST_INDEX_API_SECRET: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  // auto: readable lines (pino-pretty) when the process writes to a terminal, JSON lines otherwise.
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
});

// A block every 10 minutes on average.
export const SECONDS_PER_BLOCK = 600;

const checkedConfigSchema = configSchema.superRefine((config, ctx) => {
  if (config.NODE_ENV === 'production' && isSimulatedWallet(config)) {
    ctx.addIssue({
      code: 'custom',
      path: ['WALLET_BACKEND'],
      message: `${config.WALLET_BACKEND} is a simulator (no real sats move) and is refused when NODE_ENV=production: use alby or nwc`,
    });
  }
  if (config.RECONCILE_ABSENT_AFTER_SECONDS <= config.INVOICE_MAX_CLTV_EXPIRY_BLOCKS * SECONDS_PER_BLOCK) {
    ctx.addIssue({
      code: 'custom',
      path: ['RECONCILE_ABSENT_AFTER_SECONDS'],
      message: `must be longer than INVOICE_MAX_CLTV_EXPIRY_BLOCKS x ${SECONDS_PER_BLOCK} s (${config.INVOICE_MAX_CLTV_EXPIRY_BLOCKS * SECONDS_PER_BLOCK} s): a payee may hold a payment that long`,
    });
  }
  if (config.NODE_ENV === 'production' && config.LNADDRESS_HOST_MAP?.size) {
    ctx.addIssue({ code: 'custom', path: ['LNADDRESS_HOST_MAP'], message: 'is for tests and local runs only and is refused when NODE_ENV=production' });
  }
  if ((config.PODCAST_INDEX_API_KEY === undefined) !== (config.PODCAST_INDEX_API_SECRET === undefined)) {
    const [given, missing] =
      config.PODCAST_INDEX_API_KEY === undefined
        ? ['PODCAST_INDEX_API_SECRET', 'PODCAST_INDEX_API_KEY']
        : ['PODCAST_INDEX_API_KEY', 'PODCAST_INDEX_API_SECRET'];
    ctx.addIssue({ code: 'custom', path: [given], message: `needs ${missing} too: the Podcast Index signs calls with both (set both or neither)` });
  }
  if (config.FEED_RETRY_MAX_SECONDS < config.FEED_RETRY_BASE_SECONDS) {
    ctx.addIssue({ code: 'custom', path: ['FEED_RETRY_MAX_SECONDS'], message: 'must be at least FEED_RETRY_BASE_SECONDS' });
  }
  if (config.NODE_ENV === 'production' && config.OUTBOUND_ALLOW_PRIVATE) {
    ctx.addIssue({ code: 'custom', path: ['OUTBOUND_ALLOW_PRIVATE'], message: 'is for tests and local runs only and is refused when NODE_ENV=production' });
  }
});

// A simulated wallet's unset address and credentials default to the simulator's own defaults.
export const appConfigSchema = checkedConfigSchema.transform((config) => {
  const albySim = config.WALLET_BACKEND === 'alby-sim';
  return {
    ...config,
    ALBY_API_URL: config.ALBY_API_URL ?? (albySim ? SIMULATED_ALBY_DEFAULTS.url : 'https://api.getalby.com'),
    ALBY_ACCESS_TOKEN: config.ALBY_ACCESS_TOKEN ?? (albySim ? SIMULATED_ALBY_DEFAULTS.token : undefined),
    NWC_URL: config.NWC_URL ?? (config.WALLET_BACKEND === 'nwc-sim' ? SIMULATED_NWC_URL : undefined),
  };
});

export type AppConfig = z.output<typeof appConfigSchema>;

export interface WalletTarget {
  url: string;
  token: string;
  simulated: boolean;
}

// What a process that pays (the worker; the CLI's reconcile) is missing to reach its wallet. The api holds no wallet
// credentials and does not need them.
export function walletProblems(config: AppConfig): string[] {
  if (config.WALLET_BACKEND === 'alby' && !config.ALBY_ACCESS_TOKEN) {
    return ['ALBY_ACCESS_TOKEN: is required with WALLET_BACKEND=alby (use WALLET_BACKEND=alby-sim for the simulator)'];
  }
  if (config.WALLET_BACKEND === 'nwc' && !config.NWC_URL) {
    return ['NWC_URL: is required with WALLET_BACKEND=nwc (use WALLET_BACKEND=nwc-sim for the development wallet)'];
  }
  return [];
}

// Whether the configured wallet is one of the development simulators: no real sats move.
export const isSimulatedWallet = (config: Pick<AppConfig, 'WALLET_BACKEND'>): boolean => config.WALLET_BACKEND.endsWith('-sim');

// The NWC connection: NWC_URL (nwc; nwc-sim, where it defaults to the development wallet on this machine).
export function nwcTarget(config: AppConfig): { url: string; simulated: boolean } {
  return { url: config.NWC_URL!, simulated: isSimulatedWallet(config) };
}

// Where the Alby contract's payments go: ALBY_API_URL with ALBY_ACCESS_TOKEN (alby; alby-sim, where they default to
// the local simulator's).
export function walletTarget(config: AppConfig): WalletTarget {
  return { url: config.ALBY_API_URL, token: config.ALBY_ACCESS_TOKEN!, simulated: isSimulatedWallet(config) };
}
