import { TLV_PODCAST_METADATA } from '@splitstream/money';
import { pubkey } from '../../../money/src/testing/value-builders.js';
import { type DueBalance, planPayout, UNBUILDABLE_CODE } from './plan.js';

const due = (overrides: Partial<DueBalance>): DueBalance => ({
  balanceId: 1n,
  recipientId: 1n,
  appId: 'app',
  owedMsat: 10_500n,
  coveredMsat: 100_000n,
  feedGuid: 'feed',
  itemGuid: 'item',
  remoteFeedGuid: '',
  remoteItemGuid: '',
  address: pubkey(1),
  customKey: '',
  customValue: '',
  consecutiveFailures: 0,
  route: null,
  resolvedPubkey: null,
  resolvedRecords: null,
  minSendableMsat: null,
  maxSendableMsat: null,
  name: 'Host',
  appName: 'App',
  appVersion: '1.0',
  senderName: 'satoshi',
  position: 42,
  feedTitle: 'Show',
  itemTitle: 'Episode',
  feedUrl: 'https://example.com/feed.xml',
  feedId: 7n,
  itemId: 8n,
  ...overrides,
});

const counter = () => {
  let n = 0;
  return () => `id-${++n}`;
};
const blip10 = (records: Record<string, string>) => JSON.parse(records[TLV_PODCAST_METADATA]!);

describe('planPayout (pure)', () => {
  it('pays each due balance its whole sats with the bLIP-10 record of the episode as accrued', () => {
    const plan = planPayout([due({ customKey: '696969', customValue: 'w1', consecutiveFailures: 2 })], counter());
    expect(plan.transfers).toEqual([]);
    expect(plan.unbuildable).toEqual([]);
    expect(plan.keysends).toHaveLength(1);
    const [keysend] = plan.keysends;
    expect(keysend).toMatchObject({ balanceId: 1n, recipientId: 1n, amountSats: 10n, attempt: 3, reference: 'id-2' });
    expect(keysend!.customRecords['696969']).toBe('w1');
    expect(blip10(keysend!.customRecords)).toEqual({
      action: 'stream',
      value_msat: 10_000,
      value_msat_total: 100_000,
      guid: 'feed',
      podcast: 'Show',
      feedID: 7,
      url: 'https://example.com/feed.xml',
      episode_guid: 'item',
      episode: 'Episode',
      itemID: 8,
      ts: 42,
      app_name: 'App',
      app_version: '1.0',
      sender_name: 'satoshi',
      name: 'Host',
      boost_uuid: 'id-1',
      uuid: 'id-2',
    });
  });

  it('pays a Lightning Address that offers keysend to the node it named, with its custom records beside bLIP-10', () => {
    const address = due({ address: 'alice@example.com', route: 'keysend', resolvedPubkey: pubkey(9), resolvedRecords: { '696969': 'alice-wallet' } });
    const [keysend] = planPayout([address], counter(), () => 'ab'.repeat(32)).keysends;
    expect(keysend).toMatchObject({ method: 'keysend', destination: pubkey(9), amountSats: 10n, preimage: 'ab'.repeat(32) });
    expect(keysend!.customRecords['696969']).toBe('alice-wallet');
    expect(blip10(keysend!.customRecords)).toMatchObject({ value_msat: 10_000, name: 'Host' });
  });

  it('pays an LNURL-pay address by invoice: no preimage of ours, capped at maxSendable, nothing below minSendable', () => {
    const lnurl = { address: 'bob@example.com', route: 'lnurlp' as const };
    const plan = planPayout(
      [
        due({ ...lnurl, balanceId: 1n, recipientId: 1n, minSendableMsat: 1_000n, maxSendableMsat: 1_000_000n }),
        due({ ...lnurl, balanceId: 2n, recipientId: 2n, owedMsat: 5_000_000n, minSendableMsat: 1_000n, maxSendableMsat: 2_500_999n }),
        due({ ...lnurl, balanceId: 3n, recipientId: 3n, owedMsat: 9_999n, minSendableMsat: 10_000n, maxSendableMsat: 1_000_000n }),
      ],
      counter(),
      () => 'ab'.repeat(32),
    );
    expect(plan.keysends.map((k) => [k.balanceId, k.method, k.destination, k.amountSats, k.preimage])).toEqual([
      [1n, 'invoice', 'bob@example.com', 10n, undefined],
      [2n, 'invoice', 'bob@example.com', 2_500n, undefined],
    ]);
    expect(blip10(plan.keysends[0]!.customRecords)).toMatchObject({ value_msat: 10_000 });
  });

  it("moves a recipient's sub-sat remainders onto its largest balance once they add up to a sat", () => {
    const plan = planPayout(
      [
        due({ balanceId: 1n, owedMsat: 5_600n, itemGuid: 'a' }),
        due({ balanceId: 2n, owedMsat: 20_700n, itemGuid: 'b' }),
        due({ balanceId: 3n, owedMsat: 400n, itemGuid: 'c' }),
      ],
      counter(),
    );
    expect(plan.transfers).toEqual([
      { fromBalanceId: 1n, toBalanceId: 2n, msat: 600n },
      { fromBalanceId: 3n, toBalanceId: 2n, msat: 400n },
    ]);
    expect(plan.keysends.map((k) => [k.balanceId, k.amountSats])).toEqual([
      [1n, 5n],
      [2n, 21n],
    ]);
  });

  it("never moves a remainder between two apps' balances of one recipient", () => {
    const plan = planPayout([due({ balanceId: 1n, owedMsat: 5_600n, appId: 'a' }), due({ balanceId: 2n, owedMsat: 20_700n, appId: 'b' })], counter());
    expect(plan.transfers).toEqual([]);
    expect(plan.keysends.map((k) => [k.balanceId, k.amountSats])).toEqual([
      [1n, 5n],
      [2n, 20n],
    ]);
  });

  it('shares one boost_uuid among the recipients of one episode, and gives every keysend its own uuid', () => {
    const plan = planPayout(
      [due({ recipientId: 1n, balanceId: 1n }), due({ recipientId: 2n, balanceId: 2n }), due({ recipientId: 3n, balanceId: 3n, itemGuid: 'other' })],
      counter(),
    );
    const records = plan.keysends.map((k) => blip10(k.customRecords));
    expect(records[0].boost_uuid).toBe(records[1].boost_uuid);
    expect(records[2].boost_uuid).not.toBe(records[0].boost_uuid);
    expect(new Set(records.map((r) => r.uuid)).size).toBe(3);
  });

  it('sets a balance it cannot build a keysend for aside with the reason, and plans every other one', () => {
    const poisoned = due({ recipientId: 9n, balanceId: 9n, feedGuid: '\u0001'.repeat(200), itemGuid: 'x'.repeat(256) });
    const plan = planPayout([due({ recipientId: 1n, balanceId: 1n }), poisoned, due({ recipientId: 2n, balanceId: 2n })], counter());
    expect(plan.keysends.map((k) => k.balanceId)).toEqual([1n, 2n]);
    expect(plan.unbuildable).toEqual([
      { balanceId: 9n, recipientId: 9n, appId: 'app', code: UNBUILDABLE_CODE, message: 'the bLIP-10 record cannot fit in 1024 bytes' },
    ]);
  });
});
