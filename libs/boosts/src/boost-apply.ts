import { accrueBoost } from '@splitstream/ledger';
import { splitListening, type ValueBlock } from '@splitstream/money';
import type { Prisma } from '@splitstream/persistence';
import type { BoostRequest } from './boost.schema.js';

// A boost is split at its position as one millisecond of listening there: the time split playing at that moment
// (if any) takes its share, as a stream's would.
const BOOST_SECONDS = 0.001;

export interface StoredBoost {
  id: bigint;
  app_id: string;
  payload: BoostRequest;
  amount_msat: bigint;
}

// Splits a boost exactly among its block's recipients and accrues each share as its own boost balance (the books'
// accrueBoost), marking the boost applied, in the caller's transaction. Throws RangeError for a block the money
// core refuses, before anything is written.
export async function applyBoost(tx: Prisma.TransactionClient, boost: StoredBoost, value: ValueBlock): Promise<void> {
  const { payload } = boost;
  const split = splitListening({ amountMsat: boost.amount_msat, position: payload.position, seconds: BOOST_SECONDS, value });
  await accrueBoost(
    tx,
    {
      id: boost.id,
      appId: boost.app_id,
      feedGuid: payload.feedGuid,
      itemGuid: payload.itemGuid,
      appName: payload.appName ?? '',
      appVersion: payload.appVersion ?? '',
      senderName: payload.senderName ?? '',
      position: Math.floor(payload.position),
    },
    split.map((a) => ({
      address: a.recipient.address,
      customKey: a.recipient.customKey ?? '',
      customValue: a.recipient.customValue ?? '',
      name: a.recipient.name ?? '',
      remoteFeedGuid: a.remoteFeedGuid ?? '',
      remoteItemGuid: a.remoteItemGuid ?? '',
      amountMsat: a.amountMsat,
    })),
  );
}
