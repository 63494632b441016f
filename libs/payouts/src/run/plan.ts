import { PaymentMethod } from '@splitstream/ledger';
import { Blip10TooLargeError, buildCustomRecords, MSAT_PER_SAT, paymentHashOf, satsToMsat, splitWholeSats } from '@splitstream/money';

// Phase 1 of a payout run, pure: from the balances that are due, the keysends to send. Each keysend pays one
// (recipient, episode, remote item) balance its whole sats and carries the bLIP-10 record of that episode as its
// app accrued it (names, titles from the balance and that app's episode rows, never re-read from event payloads;
// app_name is the app's registered name).

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
}

export interface KeysendDraft {
  balanceId: bigint;
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
    action: 'stream',
    valueMsat: msat,
    valueMsatTotal: b.coveredMsat ?? msat,
    podcast: { guid: b.feedGuid, title: text(b.feedTitle), feedId: optionalId(b.feedId), url: text(b.feedUrl) },
    episode: { guid: b.itemGuid, title: text(b.itemTitle), itemId: optionalId(b.itemId) },
    ts: b.position,
    app: { name: text(b.appName), version: text(b.appVersion) },
    senderName: text(b.senderName),
    recipient: { name: text(b.name), customKey: text(b.customKey), customValue: text(b.customValue) },
    boostUuid,
    uuid: reference,
    remoteFeedGuid: text(b.remoteFeedGuid),
    remoteItemGuid: text(b.remoteItemGuid),
  });
  return { ...b.resolvedRecords, ...records };
}

// How a balance is paid and how much of it this run can pay: node recipients and Lightning Addresses offering
// keysend by keysend, all whole sats; an LNURL-pay address by invoice within its limits. Below the address's
// minimum nothing is paid (it stays owed and grows); above its maximum the rest waits for the next run.
function routeFor(b: DueBalance, sats: bigint): { method: PaymentMethod; destination: string; sats: bigint } {
  if (b.route === 'lnurlp') {
    const maxSats = b.maxSendableMsat === null ? sats : b.maxSendableMsat / MSAT_PER_SAT;
    const capped = sats < maxSats ? sats : maxSats;
    const payable = satsToMsat(capped) >= (b.minSendableMsat ?? 0n) ? capped : 0n;
    return { method: PaymentMethod.Invoice, destination: b.address, sats: payable };
  }
  return { method: PaymentMethod.Keysend, destination: b.resolvedPubkey ?? b.address, sats };
}

// `balances` ordered by recipient; `newId` makes references and boost uuids (random in production);
// `newPreimage`, when the rail takes the sender's preimage, makes each keysend's preimage.
export function planPayout(balances: DueBalance[], newId: () => string, newPreimage?: () => string): PayoutPlan {
  const plan: PayoutPlan = { keysends: [], transfers: [], unbuildable: [] };
  const byRecipient = new Map<string, DueBalance[]>();
  for (const b of balances) {
    const group = `${b.recipientId} ${b.appId}`;
    byRecipient.set(group, [...(byRecipient.get(group) ?? []), { ...b }]);
  }
  // One boost_uuid per episode per run: every recipient of one episode's listening shares it.
  const boostUuids = new Map<string, string>();
  for (const group of byRecipient.values()) {
    plan.transfers.push(...consolidate(group));
    for (const balance of group) {
      const { method, destination, sats } = routeFor(balance, splitWholeSats(balance.owedMsat).sats);
      if (sats === 0n) continue;
      const episode = JSON.stringify([balance.feedGuid, balance.itemGuid]);
      if (!boostUuids.has(episode)) boostUuids.set(episode, newId());
      const reference = newId();
      try {
        // An invoice's preimage is its payee's: its payment hash comes with the invoice.
        const preimage = method === PaymentMethod.Keysend ? newPreimage?.() : undefined;
        plan.keysends.push({
          ...(preimage && { preimage, paymentHash: paymentHashOf(preimage) }),
          balanceId: balance.balanceId,
          recipientId: balance.recipientId,
          reference,
          method,
          destination,
          amountSats: sats,
          attempt: balance.consecutiveFailures + 1,
          customRecords: customRecordsFor(balance, sats, boostUuids.get(episode)!, reference),
        });
      } catch (error) {
        if (!(error instanceof RangeError)) throw error;
        const message = error instanceof Blip10TooLargeError ? error.message : `cannot build the keysend: ${error.message}`;
        plan.unbuildable.push({ balanceId: balance.balanceId, recipientId: balance.recipientId, appId: balance.appId, code: UNBUILDABLE_CODE, message });
      }
    }
  }
  return plan;
}
