import { z } from 'zod';
import { ErrorCode, HTTP_STATUS } from '@splitstream/errors';
import { EVENT_REJECTION_CODES, EVENT_VERDICTS } from '@splitstream/ingestion';
import { BOOST_STATUSES } from '@splitstream/boosts';
import { EventStatus, PaymentStatus, PaymentMethod, PayoutStatus, RecipientState } from '@splitstream/ledger';
import { PAYOUT_TRIGGERS } from '@splitstream/payouts';

// Response shapes, for the OpenAPI document (the code builds these objects in the controllers and services).
const msat = z
  .string()
  .regex(/^[0-9]+$/)
  .describe('millisatoshis, as a decimal string');
const timestamp = z.string().describe('ISO 8601 time');
const nullableText = z.string().nullable();

export const errorResponse = z
  .object({
    error: z.enum(ErrorCode).describe(
      `a stable code; each one's HTTP status: ${Object.entries(HTTP_STATUS)
        .map(([code, status]) => `${code} ${status}`)
        .join(', ')}`,
    ),
    message: z.string(),
    issues: z
      .array(
        z.object({
          path: z.string(),
          message: z.string(),
          index: z.number().int().optional().describe("POST /v1/events: the event's index in the request"),
          code: z.enum(ErrorCode).optional().describe('events_rejected: why that event was refused (conflict: its id was used for other content)'),
        }),
      )
      .optional(),
  })
  .describe('The one error body of every route');

const fieldIssue = z.object({ path: z.string().describe('e.g. events[3].seconds'), message: z.string() });

export const ingestResponse = z
  .object({
    accepted: z.number().int(),
    duplicates: z.number().int(),
    conflicts: z.number().int(),
    rejected: z.number().int(),
    events: z.array(
      z.object({
        index: z.number().int().describe("the event's index in the request"),
        id: z.string().nullable().describe('the id as sent; null when it is not a string of 1 to 128 characters'),
        status: z
          .enum(EVENT_VERDICTS)
          .describe(
            'accepted: stored now; duplicate: stored before with the same content (or earlier in this request); conflict: its id was stored (or comes earlier in this request) with different content, nothing changed; rejected: see code and issues',
          ),
        code: z.enum(EVENT_REJECTION_CODES).optional().describe('rejected: why'),
        issues: z.array(fieldIssue).optional().describe('rejected or conflict: the fields or rule, each with a message'),
      }),
    ),
  })
  .describe('Each event judged on its own, in request order: 202 when at least one was stored now or before');

// POST /v1/events answers 400 in the one error shape; events_rejected (no event stored) also carries the results.
export const ingestRefusedResponse = errorResponse
  .extend(ingestResponse.partial().shape)
  .describe('invalid_request: the request itself is malformed; events_rejected: no event was stored, with the totals and results a 202 carries');

const recipientType = z.enum(['node', 'lnaddress']).describe('node: a node pubkey; lnaddress: a Lightning Address');
const paymentMethod = z.enum(PaymentMethod).describe('keysend, or invoice (a Lightning Address paid by LNURL-pay)');
const recipientRef = z.object({ type: recipientType, address: z.string(), customKey: nullableText, customValue: nullableText, name: nullableText });

// A verdict that settled an unknown payment; its evidence is what was looked at (an override's: the last wallet check).
const paymentVerdict = z.object({
  outcome: z.enum(['succeeded', 'failed']),
  basis: z
    .enum(['wallet', 'preimage', 'override'])
    .describe("wallet: the wallet's records (reconciliation); preimage: a preimage of its hash; override: an admin's, without evidence"),
  decidedBy: z.string().describe('"reconciliation", or the API key and its app: api key <id> (<app>)'),
  reason: z.string(),
  evidence: z
    .object({
      checkedAt: timestamp.nullable().optional().describe('when the wallet was last asked about it (null: never)'),
      walletSaid: nullableText.optional().describe('what the wallet said then'),
      preimage: z.string().optional(),
      rail: z.string().optional(),
    })
    .catchall(z.unknown())
    .describe('what the verdict was decided on'),
  at: timestamp,
});

export const paymentResponse = z.object({
  id: z.string(),
  payoutId: z.string(),
  reference: z.string(),
  app: z.string().describe("the app whose money it pays (an app key sees only its own app's)"),
  recipient: recipientRef.describe("the recipient as the payment's app names it"),
  episode: z
    .object({ feedGuid: z.string(), itemGuid: z.string(), remoteFeedGuid: nullableText, remoteItemGuid: nullableText })
    .describe('its episode; for an invoice that paid several episodes of one Lightning address, the first of them'),
  parts: z
    .array(z.object({ feedGuid: z.string(), itemGuid: z.string(), remoteFeedGuid: nullableText, remoteItemGuid: nullableText, amountMsat: msat }))
    .describe('what it paid each episode, to the msat: one part, or one per episode of an invoice that paid several'),
  method: paymentMethod,
  destination: nullableText.describe('the node a keysend went to; null for an invoice payment'),
  invoice: nullableText.describe("an invoice payment's BOLT11 invoice, stored before it was paid"),
  amountSats: z.number().int(),
  status: z.enum(PaymentStatus),
  attempts: z.number().int(),
  lastErrorCode: nullableText.describe('the wallet\'s error code (e.g. "2", "10") or splitstream\'s (record_unbuildable)'),
  lastErrorMessage: nullableText,
  feeSats: z.number().int().nullable(),
  paymentHash: nullableText,
  simulated: z.boolean().describe('paid by a development simulator (WALLET_BACKEND alby-sim or nwc-sim): no real sats moved'),
  createdAt: timestamp,
  sentAt: timestamp.nullable(),
  finishedAt: timestamp.nullable(),
  resolvedBy: nullableText,
  resolvedAt: timestamp.nullable(),
  verdicts: z.array(paymentVerdict).describe('how an unknown outcome was settled, oldest first (empty: it never was unknown, or still is)'),
  lastCheck: z
    .object({ at: timestamp, walletSaid: nullableText })
    .nullable()
    .describe('the last time the wallet was asked about this payment, and its answer (null: never)'),
});
// The former name of paymentResponse.
export const keysendResponse = paymentResponse;

const payoutTotals = z.object({
  keysends: z.number().int(),
  succeeded: z.number().int(),
  failed: z.number().int(),
  cancelled: z.number().int(),
  unknown: z.number().int(),
  pending: z.number().int(),
  sats: z.number().int(),
  paidSats: z.number().int(),
  feeSats: z.number().int(),
});

const payoutBase = z.object({
  id: z.string(),
  trigger: z.enum(PAYOUT_TRIGGERS).describe('schedule: the payout tick; manual: POST /v1/payouts/run; boost: due boosts, paid at once'),
  status: z
    .enum(PayoutStatus)
    .describe("to an app key, a finished run that had nothing due for the key's app is skipped, note 'nothing due for this app', ended when it started"),
  note: nullableText,
  createdAt: timestamp,
  startedAt: timestamp.nullable(),
  finishedAt: timestamp.nullable(),
  totals: payoutTotals,
});

export const payoutListResponse = z.object({ payouts: z.array(payoutBase), nextBefore: nullableText });
export const payoutResponse = payoutBase.extend({ keysends: z.array(paymentResponse) });
export const payoutStartedResponse = z.object({ id: z.string(), status: z.literal('queued'), started: z.literal(true) });
export const payoutActiveResponse = z.object({
  id: z.string().describe('the run already queued or running'),
  status: z.enum([PayoutStatus.Queued, PayoutStatus.Running]),
  started: z.literal(false).describe('no run was started: this one pays what a new run would'),
  message: z.string(),
});

export const eventListResponse = z.object({
  events: z.array(
    z.object({
      id: z.string().describe("the app's id for the event"),
      app: z.string().describe('the app that sent it (event ids are per app)'),
      href: z.string().describe('GET it for its per-recipient amounts and keysends: /v1/events/{id}?app={app}'),
      feedGuid: z.string(),
      itemGuid: z.string(),
      amountMsat: msat,
      status: z
        .enum(EventStatus)
        .describe('applied: on the ledger; awaiting: accepted, not yet applied; set_aside: its stored payload cannot be split, never applied'),
      setAsideReason: nullableText.describe('why it was set aside (null unless set_aside)'),
      receivedAt: timestamp,
      appliedAt: timestamp.nullable(),
    }),
  ),
  nextBefore: nullableText,
});

const blockOrigin = {
  via: z.enum(['feed', 'podcastIndex']).describe('read from the feed itself (feedUrl) or from the Podcast Index value API (GUIDs only)'),
  level: z.enum(['item', 'channel']).describe("the item's own <podcast:value>, or the channel's (the item has none)"),
  url: z.string().describe('the feed, or the Podcast Index call, read'),
  feedGuid: z.string(),
  itemGuid: nullableText,
  fetchedAt: timestamp.describe('when its content was downloaded (a 304 since keeps it)'),
  hash: z.string().describe('sha256 (hex) of the content read'),
};
const valueBlockView = z
  .object({
    given: z.enum(['inline', 'reference']).describe('inline: the event carried its value block; reference: the worker finds it'),
    feedUrl: nullableText,
    source: z
      .object({
        ...blockOrigin,
        remoteItems: z.array(z.object({ ...blockOrigin, depth: z.number().int() })).describe('the remote items (value time splits) resolved for it'),
        skippedRemoteItems: z
          .array(z.object({ feedGuid: z.string(), itemGuid: nullableText, reason: z.string() }))
          .describe('remote items left out: a loop, or deeper than FEED_REMOTE_DEPTH'),
      })
      .nullable()
      .describe('the block that paid it, once found (null for an inline block or while waiting)'),
    retryAt: timestamp.nullable().describe('while its feed backs off: when the worker tries again'),
    lastError: nullableText.describe('why the last try found no block'),
  })
  .describe('Which value block paid the event (or the boost)');

export const eventRetryResponse = z.object({
  retried: z.number().int().describe('set-aside events queued to be applied again'),
  boostsRetried: z.number().int().describe('set-aside boosts sent by reference whose block is looked for again'),
});

export const eventResponse = z.object({
  id: z.string(),
  app: z.string().describe('the app that sent it (event ids are per app)'),
  amountMsat: msat,
  receivedAt: timestamp,
  appliedAt: timestamp.nullable(),
  setAsideReason: nullableText.describe('why the event is set aside (POST /v1/events/retry applies it again), else null'),
  valueBlock: valueBlockView,
  allocations: z.array(
    z.object({
      recipient: recipientRef.describe("the recipient as the event's app names it"),
      remoteFeedGuid: nullableText,
      remoteItemGuid: nullableText,
      amountMsat: msat,
      paymentId: nullableText,
    }),
  ),
  keysends: z.array(paymentResponse),
});

const recipientMoney = { accruedMsat: msat, owedMsat: msat, inFlightMsat: msat, parkedMsat: msat, paidMsat: msat };
const recipientFailure = {
  consecutiveFailures: z.number().int(),
  lastErrorCode: nullableText.describe('the wallet\'s error code (e.g. "2", "10") or splitstream\'s (record_unbuildable)'),
  lastErrorMessage: nullableText.describe('the reason in words, as apps may read it (never a raw transport error)'),
  lastErrorDetail: nullableText.optional().describe('admin keys only: the last failure in full (transport error, what a server answered)'),
  parked: z.boolean(),
  parkedAt: timestamp.nullable(),
  nextAttemptAt: timestamp.nullable(),
};

// Why an address recipient's owed money waits.
const recipientWaiting = z
  .object({
    code: z
      .string()
      .describe(
        'lnaddress_unresolved (no route yet), lnaddress_unreachable or lnaddress_refused (its resolution failed), lnaddress_domain_open (its domain is not called until a time), below_min_sendable',
      ),
    message: z.string().describe('the reason in words, as apps may read it'),
    detail: nullableText.optional().describe('admin keys only: the failure in full'),
  })
  .nullable();

// Name, state and failures are per (recipient, app): an app key sees its own app's; an admin key sees the latest
// name any app gave, the state of the worst-off app, and every app's in `apps`.
export const recipientResponse = z.object({
  id: z.string(),
  type: recipientType,
  address: z.string(),
  customKey: nullableText,
  customValue: nullableText,
  name: nullableText.describe("an app key: its own app's name for the recipient; an admin key: the latest name any app gave"),
  state: z.enum(RecipientState).describe("an app key: its own app's; an admin key: the worst-off app's (parked, then backing off, then most failures)"),
  ...recipientMoney,
  ...recipientFailure,
  apps: z
    .array(
      z.object({
        app: z.string(),
        name: nullableText,
        state: z.enum(RecipientState),
        ...recipientFailure,
        lastErrorDetail: nullableText,
        ...recipientMoney,
        waiting: recipientWaiting.describe("why this app's owed money is not being paid yet"),
      }),
    )
    .optional()
    .describe("admin keys only: each app's name, state, money and waiting for the recipient, worst-off first"),
  waiting: recipientWaiting.describe(
    "why an address recipient's owed money is not being paid yet; null when nothing waits. The address's minimum applies to each app's owed on its own: for an admin key, below_min_sendable only while no app's owed reaches it",
  ),
});

export const unparkResponse = recipientResponse.extend({
  changed: z.boolean().describe('false when none of the apps named had the recipient parked: nothing was changed'),
});

export const reconcileResponse = z.object({
  checked: z.number().int(),
  paid: z.number().int(),
  returnedToOwed: z.number().int(),
  resent: z.number().int(),
  stillUnknown: z.number().int(),
});

// 202 from POST /v1/payments/reconcile and .../{id}/check: the worker had not finished within the api's wait
// (about 20 s); it still runs the job.
export const reconcileQueuedResponse = z.object({ status: z.literal('queued'), jobId: z.string() });

export const summaryResponse = z.object({
  accruedMsat: msat,
  owedMsat: msat,
  inFlightMsat: msat,
  parkedMsat: msat,
  paidMsat: msat,
  feesSats: z.number().int(),
  unknown: z.object({ keysends: z.number().int(), sats: z.number().int() }),
  events: z.object({ accepted: z.number().int(), awaitingAccumulation: z.number().int(), setAside: z.number().int() }),
});

export const ledgerCheckResponse = z.object({
  ok: z.boolean(),
  eventsMsat: msat,
  accruedMsat: msat,
  owedMsat: msat,
  inFlightMsat: msat,
  parkedMsat: msat,
  paidMsat: msat,
  problems: z.array(z.string()),
});

// 500 from GET /v1/ledger/check: the error shape with the report beside it.
export const ledgerBrokenResponse = errorResponse.extend(ledgerCheckResponse.shape);

// Without an admin key only `status` (ok, or error in the error shape); with one, terminus' whole report.
const healthReport = z.record(z.string(), z.unknown());
export const healthResponse = z.object({
  status: z.enum(['ok', 'error']),
  info: healthReport.optional(),
  error: healthReport.optional(),
  details: healthReport.optional(),
});
// 503 from GET /health: the error shape; with an admin key, the report beside it and the checks that failed.
export const healthDownResponse = errorResponse.extend({
  status: z.enum(['error', 'degraded']).describe('degraded: only the wallet fails (it refuses our credentials)'),
  info: healthReport.optional(),
  details: healthReport.optional(),
  down: healthReport.optional().describe('admin keys only: each check that failed, and why'),
});

export const paymentListResponse = z.object({ keysends: z.array(paymentResponse), nextBefore: nullableText });
export const keysendListResponse = paymentListResponse;
export const recipientListResponse = z.object({ recipients: z.array(recipientResponse), nextBefore: nullableText });

const statementMoney = {
  accruedMsat: msat,
  paidMsat: msat,
  feesMsat: msat,
  owedMsat: msat,
  inFlightMsat: msat,
  parkedMsat: msat,
};
export const statementResponse = z.object({
  recipient: recipientRef.extend({ id: z.string() }),
  period: z.object({ from: timestamp.nullable(), to: timestamp.nullable() }),
  totals: z.object(statementMoney),
  feeds: z.array(z.object({ feedGuid: z.string(), feedTitle: nullableText, ...statementMoney })),
  episodes: z.array(z.object({ feedGuid: z.string(), itemGuid: z.string(), feedTitle: nullableText, itemTitle: nullableText, ...statementMoney })),
  boosts: z.array(
    z.object({
      id: z.string().describe("the app's id for the boost"),
      app: z.string(),
      receivedAt: timestamp,
      feedGuid: z.string(),
      itemGuid: z.string(),
      senderName: nullableText,
      message: z.string().describe('the boostagram'),
      amountMsat: msat.describe("the recipient's share of the boost"),
      joinedBalanceMsat: msat.describe('what of it was too small to send alone and is paid with the stream money'),
    }),
  ),
  keysends: z.array(
    z.object({
      id: z.string(),
      createdAt: timestamp,
      finishedAt: timestamp.nullable(),
      feedGuid: z.string(),
      itemGuid: z.string(),
      amountMsat: msat,
      feeMsat: msat.nullable(),
      status: z.enum(PaymentStatus),
      method: paymentMethod,
      paymentHash: nullableText,
    }),
  ),
});

const recipientAmounts = { accruedMsat: msat, paidMsat: msat, owedMsat: msat, inFlightMsat: msat, parkedMsat: msat };
export const feedSummaryResponse = z.object({
  feedGuid: z.string(),
  feedTitle: nullableText,
  totals: z.object(recipientAmounts),
  recipients: z.array(recipientRef.extend({ id: z.string(), ...recipientAmounts })),
});

export const appResponse = z.object({
  app: z.string(),
  name: z.string().describe('what its payments carry as bLIP-10 app_name: the name operators registered (npm run cli -- apps name), or the app id'),
  keyId: z.string(),
  scopes: z.array(z.string()),
  caps: z.object({ dayMsat: msat.nullable(), monthMsat: msat.nullable(), listenerDayMsat: msat.nullable() }),
  accepted: z.object({ todayMsat: msat, thisMonthMsat: msat }),
});

export const topRecipientsResponse = z.object({ recipients: z.array(recipientResponse) });
export const paidPerHourResponse = z.object({ hours: z.array(z.object({ hour: timestamp, paidMsat: msat, keysends: z.number().int() })) });

// POST /v1/payments/{id}/check: the payment as it is after the worker looked it up, with the reconciliation's report.
export const paymentCheckResponse = keysendResponse.extend({ report: reconcileResponse });

// Boosts (POST/GET /v1/boosts): a boost as listed, and as read with each recipient's share.
const boostSummary = {
  id: z.string().describe("the app's id for the boost"),
  app: z.string().describe('the app that sent it (boost ids are per app)'),
  href: z.string().describe('GET it for each share and its payments: /v1/boosts/{id}?app={app}'),
  feedGuid: z.string(),
  itemGuid: z.string(),
  amountMsat: msat,
  message: z.string().describe('the boostagram, as sent (escaped when shown)'),
  senderName: nullableText,
  position: z.number().describe('seconds into the episode (time splits at this position take their share)'),
  boostUuid: z.string().describe('the bLIP-10 boost_uuid every payment of the boost carries'),
  status: z
    .enum(BOOST_STATUSES)
    .describe(
      'awaiting: accepted, its value block (sent by reference) not yet found; paying: a share is owed, in flight or parked; paid: every share sent or joined to its recipient balance; set_aside: no block found (POST /v1/events/retry tries again) or it cannot be split',
    ),
  setAsideReason: nullableText,
  receivedAt: timestamp,
  appliedAt: timestamp.nullable(),
};

export const boostListResponse = z.object({
  boosts: z.array(z.object(boostSummary)),
  nextBefore: nullableText.describe('the cursor of the next page (before), null on the last'),
});

export const boostResponse = z.object({
  ...boostSummary,
  replyAddress: nullableText,
  listenerId: nullableText,
  valueBlock: valueBlockView,
  shares: z.array(
    z.object({
      recipient: recipientRef,
      remoteFeedGuid: nullableText,
      remoteItemGuid: nullableText,
      amountMsat: msat.describe("the recipient's exact share of the boost"),
      joinedBalanceMsat: msat.describe(
        "what of it was too small to send alone (below 1 sat, or the address's minimum, or the sub-sat rest): joined the recipient's stream balance for the episode and is paid with it",
      ),
      paidMsat: msat,
      inFlightMsat: msat,
      owedMsat: msat,
      parkedMsat: msat,
      payments: z.array(
        z.object({
          id: z.string(),
          status: z.enum(PaymentStatus),
          amountSats: z.number().int(),
          method: z.enum(PaymentMethod),
          errorCode: nullableText,
          errorMessage: nullableText,
        }),
      ),
    }),
  ),
});

export const boostReceiptResponse = z.object({
  status: z
    .enum(['accepted', 'duplicate'])
    .describe('accepted: stored now and handed to its job; duplicate: stored before with this content (nothing changed)'),
  boost: boostResponse,
});
