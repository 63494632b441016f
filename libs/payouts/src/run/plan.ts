import { PaymentMethod } from '@splitstream/ledger';
import {
  type BoostFields,
  Blip10TooLargeError,
  blip10Summary,
  buildCustomRecords,
  MSAT_PER_SAT,
  paymentHashOf,
  satsToMsat,
  splitWholeSats,
  TLV_PODCAST_METADATA,
} from '@splitstream/money';
import type { DraftPart } from '@splitstream/payments';

// Phase 1 of a payout run, pure: from the balances that are due, the payments to send. A payment pays one
// (recipient, episode, remote item) balance whole sats and carries the bLIP-10 record of that episode as its app
// accrued it (names and titles from the balance and that app's episode rows, never re-read from event payloads;
// app_name is the app's registered name). A balance
// above the largest payment (MAX_PAYMENT_SATS, or an LNURL-pay address's maxSendable) is paid in several payments
// of the same run; an LNURL-pay address's balances that are each below its minSendable are paid together by one
// invoice (parts, one per balance) once they add up to it.

export interface DueBalance {
  balanceId: bigint;
  recipientId: bigint;
  appId: string; // the tenant: remainders never move between apps' balances
  owedMsat: bigint;
  coveredMsat: bigint | null; // what the listening not yet in flight was worth before splits (value_msat_total)
  feedGuid: string;
  itemGuid: string;
  remoteFeedGuid: string;
  remoteItemGuid: string;
  address: string;
  customKey: string;
  customValue: string;
  consecutiveFailures: number;
  // A Lightning Address's cached route (null for node recipients): keysend to `resolvedPubkey` with
  // `resolvedRecords`, or LNURL-pay invoices between the min and max amounts.
  route: 'keysend' | 'lnurlp' | null;
  resolvedPubkey: string | null;
  resolvedRecords: Record<string, string> | null;
  minSendableMsat: bigint | null;
  maxSendableMsat: bigint | null;
  commentAllowed: number | null; // how long an LNURL-pay invoice comment may be
  // as accrued: the recipient's name in this episode's value block, the listener, the position; the app's
  // registered name (never what an event said)
  name: string;
  appName: string;
  appVersion: string;
  senderName: string;
  position: number;
  feedTitle: string;
  itemTitle: string;
  feedUrl: string;
  feedId: bigint | null;
  itemId: bigint | null;
  // A boost's balance (BoostPayer): its payments say action "boost" with the boost's message and reply, the whole
  // boost as value_msat_total, and the boost's own boost_uuid.
  boost?: BoostFields & { uuid: string; totalMsat: bigint };
}

export interface KeysendDraft {
  balanceId: bigint; // its balance, or the lead (first) of its parts
  parts?: DraftPart[]; // an invoice for several small balances of one address: what it takes from each
  recipientId: bigint;
  reference: string; // unique; the wallet memo and the bLIP-10 uuid
  method: PaymentMethod;
  destination: string; // the node a keysend pays; for an invoice payment, the Lightning Address
  amountSats: bigint;
  attempt: number;
  customRecords: Record<string, string>;
  // Chosen before sending where the rail takes it (NWC): the payment hash is known, so the outcome can always be
  // looked up, and sending it again cannot pay twice.
  preimage?: string;
  paymentHash?: string;
  comment?: string; // an invoice payment's invoice comment
}

// The largest payment a run makes (MAX_PAYMENT_SATS): a larger balance is paid in several.
export interface PlanLimits {
  maxPaymentSats: bigint;
}

export interface RemainderTransfer {
  fromBalanceId: bigint;
  toBalanceId: bigint;
  msat: bigint;
}

// A balance whose keysend cannot be built: its recipient is failed with this reason; nobody else is affected.
export interface Unbuildable {
  balanceId: bigint;
  recipientId: bigint;
  appId: string;
  code: string;
  message: string;
}

export interface PayoutPlan {
  keysends: KeysendDraft[];
  transfers: RemainderTransfer[];
  unbuildable: Unbuildable[];
}

export const UNBUILDABLE_CODE = 'record_unbuildable';

const optionalId = (id: bigint | null) => (id === null || id > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(id));
const text = (value: string) => value || undefined;

// Sub-sat remainders would strand on each episode (0.9 sat here, 0.9 there): when a recipient's remainders from
// one app add up to a sat or more, they move to its largest balance from that app and are paid with it.
function consolidate(group: DueBalance[]): RemainderTransfer[] {
  const withRemainder = group.filter((b) => b.owedMsat % MSAT_PER_SAT > 0n);
  const total = withRemainder.reduce((sum, b) => sum + (b.owedMsat % MSAT_PER_SAT), 0n);
  if (total < MSAT_PER_SAT || withRemainder.length < 2) return [];
  const carrier = group.reduce((best, b) => (b.owedMsat > best.owedMsat ? b : best));
  const transfers: RemainderTransfer[] = [];
  for (const balance of withRemainder) {
    if (balance === carrier) continue;
    const msat = balance.owedMsat % MSAT_PER_SAT;
    balance.owedMsat -= msat;
    carrier.owedMsat += msat;
    transfers.push({ fromBalanceId: balance.balanceId, toBalanceId: carrier.balanceId, msat });
  }
  return transfers;
}

function customRecordsFor(b: DueBalance, sats: bigint, boostUuid: string, reference: string): Record<string, string> {
  const msat = satsToMsat(sats);
  const records = buildCustomRecords({
    action: b.boost ? 'boost' : 'stream',
    valueMsat: msat,
    valueMsatTotal: b.boost?.totalMsat ?? b.coveredMsat ?? msat,
    podcast: { guid: b.feedGuid, title: text(b.feedTitle), feedId: optionalId(b.feedId), url: text(b.feedUrl) },
    episode: { guid: b.itemGuid, title: text(b.itemTitle), itemId: optionalId(b.itemId) },
    ts: b.position,
    app: { name: text(b.appName), version: text(b.appVersion) },
    senderName: text(b.senderName),
    recipient: { name: text(b.name), customKey: text(b.customKey), customValue: text(b.customValue) },
    boostUuid: b.boost?.uuid ?? boostUuid,
    uuid: reference,
    remoteFeedGuid: text(b.remoteFeedGuid),
    remoteItemGuid: text(b.remoteItemGuid),
    ...(b.boost && { boost: b.boost }),
  });
  return { ...b.resolvedRecords, ...records };
}

// How a balance is paid and the amounts one payment may be: node recipients and Lightning Addresses offering
// keysend by keysend; an LNURL-pay address by invoice within its limits (whole sats: minSendable rounded up,
// maxSendable down).
interface Route {
  method: PaymentMethod;
  destination: string;
  minSats: bigint;
  maxSats: bigint;
}

function routeFor(b: DueBalance, limits: PlanLimits): Route {
  if (b.route !== 'lnurlp') return { method: PaymentMethod.Keysend, destination: b.resolvedPubkey ?? b.address, minSats: 1n, maxSats: limits.maxPaymentSats };
  const maxSendable = b.maxSendableMsat === null ? limits.maxPaymentSats : b.maxSendableMsat / MSAT_PER_SAT;
  const minSats = ((b.minSendableMsat ?? 0n) + MSAT_PER_SAT - 1n) / MSAT_PER_SAT;
  return {
    method: PaymentMethod.Invoice,
    destination: b.address,
    minSats: minSats > 1n ? minSats : 1n,
    maxSats: maxSendable < limits.maxPaymentSats ? maxSendable : limits.maxPaymentSats,
  };
}

// At most this many payments for one balance in one run (an address may take 1 sat a payment): the rest waits
// for the next run, so a run's plan stays bounded whatever a balance holds.
export const MAX_PAYMENTS_PER_BALANCE = 1_000;

// A balance's whole sats as payments of at most maxSats; a last piece below minSats stays owed (it grows).
function splitAmount(sats: bigint, { minSats, maxSats }: Route): bigint[] {
  const pieces: bigint[] = [];
  for (let rest = sats; rest >= minSats && pieces.length < MAX_PAYMENTS_PER_BALANCE; rest -= pieces.at(-1)!) pieces.push(rest < maxSats ? rest : maxSats);
  return pieces;
}

// What one invoice for several small balances takes from one of them.
interface Share {
  balance: DueBalance;
  sats: bigint;
}

// Small balances (each below the address's minimum) packed in order into invoices of at most maxSats; an invoice
// is paid once its balances reach minSats, the rest stays owed.
function combineSmall(small: Share[], route: Route): Share[][] {
  const invoices: Share[][] = [];
  let current: Share[] = [];
  let sum = 0n;
  for (const item of small) {
    if (sum + item.sats > route.maxSats && current.length > 0) {
      invoices.push(current);
      current = [];
      sum = 0n;
    }
    current.push(item);
    sum += item.sats;
  }
  invoices.push(current);
  return invoices.filter((bin) => bin.reduce((total, i) => total + i.sats, 0n) >= route.minSats);
}

// An invoice comment for several episodes: the amount, every episode by title (or guid), the app; cut to `maxChars`.
export function episodesComment(parts: Share[], maxChars: number): string {
  const sats = parts.reduce((total, p) => total + p.sats, 0n);
  const episodes = parts.map(({ balance: b }) => b.itemTitle || b.itemGuid);
  const app = parts[0]!.balance.appName;
  const text = [`stream ${sats} sats`, `${episodes.length} episodes: ${episodes.join(', ')}`, app && `via ${app}`].filter(Boolean).join(' · ');
  return [...text].slice(0, Math.max(0, maxChars)).join('');
}

// `balances` ordered by recipient; `newId` makes references and boost uuids (random in production);
// `newPreimage`, when the rail takes the sender's preimage, makes each keysend's preimage.
export function planPayout(balances: DueBalance[], newId: () => string, limits: PlanLimits, newPreimage?: () => string): PayoutPlan {
  const plan: PayoutPlan = { keysends: [], transfers: [], unbuildable: [] };
  const byRecipient = new Map<string, DueBalance[]>();
  for (const b of balances) {
    const group = `${b.recipientId} ${b.appId}`;
    byRecipient.set(group, [...(byRecipient.get(group) ?? []), { ...b }]);
  }
  // One boost_uuid per episode per run: every recipient of one episode's listening shares it.
  const boostUuids = new Map<string, string>();
  const boostUuidOf = (b: DueBalance) => {
    const episode = JSON.stringify([b.feedGuid, b.itemGuid]);
    if (!boostUuids.has(episode)) boostUuids.set(episode, newId());
    return boostUuids.get(episode)!;
  };
  // Builds one balance's (or one combined invoice's) payments; any error sets all its balances aside alone.
  const build = (owners: DueBalance[], drafts: () => KeysendDraft[]) => {
    try {
      plan.keysends.push(...drafts());
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      const message = error instanceof Blip10TooLargeError ? error.message : `cannot build the payment: ${error.message}`;
      for (const b of owners) plan.unbuildable.push({ balanceId: b.balanceId, recipientId: b.recipientId, appId: b.appId, code: UNBUILDABLE_CODE, message });
    }
  };
  for (const group of byRecipient.values()) {
    plan.transfers.push(...consolidate(group));
    const small: Share[] = [];
    for (const balance of group) {
      const route = routeFor(balance, limits);
      const { sats } = splitWholeSats(balance.owedMsat);
      if (sats === 0n) continue;
      if (route.maxSats < route.minSats) {
        const message = `the address takes at least ${route.minSats} sats a payment, more than the largest payment (${route.maxSats} sats)`;
        plan.unbuildable.push({ balanceId: balance.balanceId, recipientId: balance.recipientId, appId: balance.appId, code: UNBUILDABLE_CODE, message });
        continue;
      }
      if (route.method === PaymentMethod.Invoice && sats < route.minSats) {
        small.push({ balance, sats });
        continue;
      }
      build([balance], () => {
        const boostUuid = boostUuidOf(balance);
        return splitAmount(sats, route).map((piece) => {
          const reference = newId();
          const customRecords = customRecordsFor(balance, piece, boostUuid, reference);
          // An invoice's preimage is its payee's: its payment hash comes with the invoice.
          const preimage = route.method === PaymentMethod.Keysend ? newPreimage?.() : undefined;
          return {
            ...(preimage && { preimage, paymentHash: paymentHashOf(preimage) }),
            ...(route.method === PaymentMethod.Invoice && { comment: invoiceComment(customRecords, balance.commentAllowed) }),
            balanceId: balance.balanceId,
            recipientId: balance.recipientId,
            reference,
            method: route.method,
            destination: route.destination,
            amountSats: piece,
            attempt: balance.consecutiveFailures + 1,
            customRecords,
          };
        });
      });
    }
    if (small.length === 0) continue;
    const route = routeFor(small[0]!.balance, limits);
    for (const invoice of combineSmall(small, route)) {
      const lead = invoice[0]!.balance;
      build(
        invoice.map((i) => i.balance),
        () => [
          {
            balanceId: lead.balanceId,
            parts: invoice.map((i) => ({ balanceId: i.balance.balanceId, msat: satsToMsat(i.sats) })),
            recipientId: lead.recipientId,
            reference: newId(),
            method: route.method,
            destination: route.destination,
            amountSats: invoice.reduce((total, i) => total + i.sats, 0n),
            attempt: lead.consecutiveFailures + 1,
            // A bLIP-10 record describes one episode: an invoice for several carries none, its comment names them.
            customRecords: {},
            comment: episodesComment(invoice, lead.commentAllowed ?? 0),
          },
        ],
      );
    }
  }
  return plan;
}

const invoiceComment = (records: Record<string, string>, commentAllowed: number | null) =>
  blip10Summary(JSON.parse(records[TLV_PODCAST_METADATA] ?? '{}') as Record<string, unknown>, commentAllowed ?? 0);
