import { TLV_PODCAST_METADATA } from '@splitstream/money';
import { pubkey } from '../../../money/src/testing/value-builders.js';
import { type DueBalance, MAX_PAYMENTS_PER_BALANCE, planPayout, UNBUILDABLE_CODE } from './plan.js';

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
  commentAllowed: null,
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
const LIMITS = { maxPaymentSats: 1_000_000n };
const blip10 = (records: Record<string, string>) => JSON.parse(records[TLV_PODCAST_METADATA]!);

describe('planPayout (pure)', () => {
  it('pays each due balance its whole sats with the bLIP-10 record of the episode as accrued', () => {
    const plan = planPayout([due({ customKey: '696969', customValue: 'w1', consecutiveFailures: 2 })], counter(), LIMITS);
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
    const [keysend] = planPayout([address], counter(), LIMITS, () => 'ab'.repeat(32)).keysends;
    expect(keysend).toMatchObject({ method: 'keysend', destination: pubkey(9), amountSats: 10n, preimage: 'ab'.repeat(32) });
    expect(keysend!.customRecords['696969']).toBe('alice-wallet');
    expect(blip10(keysend!.customRecords)).toMatchObject({ value_msat: 10_000, name: 'Host' });
  });

  it('pays an LNURL-pay address by invoice: no preimage of ours, split at maxSendable, nothing below minSendable', () => {
    const lnurl = { address: 'bob@example.com', route: 'lnurlp' as const };
    const plan = planPayout(
      [
        due({ ...lnurl, balanceId: 1n, recipientId: 1n, minSendableMsat: 1_000n, maxSendableMsat: 1_000_000n }),
        due({ ...lnurl, balanceId: 2n, recipientId: 2n, owedMsat: 5_000_000n, minSendableMsat: 1_000n, maxSendableMsat: 2_500_999n }),
        due({ ...lnurl, balanceId: 3n, recipientId: 3n, owedMsat: 9_999n, minSendableMsat: 10_000n, maxSendableMsat: 1_000_000n }),
      ],
      counter(),
      LIMITS,
      () => 'ab'.repeat(32),
    );
    expect(plan.keysends.map((k) => [k.balanceId, k.method, k.destination, k.amountSats, k.preimage])).toEqual([
      [1n, 'invoice', 'bob@example.com', 10n, undefined],
      [2n, 'invoice', 'bob@example.com', 2_500n, undefined],
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
      LIMITS,
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
    const plan = planPayout([due({ balanceId: 1n, owedMsat: 5_600n, appId: 'a' }), due({ balanceId: 2n, owedMsat: 20_700n, appId: 'b' })], counter(), LIMITS);
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
      LIMITS,
    );
    const records = plan.keysends.map((k) => blip10(k.customRecords));
    expect(records[0].boost_uuid).toBe(records[1].boost_uuid);
    expect(records[2].boost_uuid).not.toBe(records[0].boost_uuid);
    expect(new Set(records.map((r) => r.uuid)).size).toBe(3);
  });

  it('sets a balance it cannot build a keysend for aside with the reason, and plans every other one', () => {
    const poisoned = due({ recipientId: 9n, balanceId: 9n, feedGuid: '\u0001'.repeat(200), itemGuid: 'x'.repeat(256) });
    const plan = planPayout([due({ recipientId: 1n, balanceId: 1n }), poisoned, due({ recipientId: 2n, balanceId: 2n })], counter(), LIMITS);
    expect(plan.keysends.map((k) => k.balanceId)).toEqual([1n, 2n]);
    expect(plan.unbuildable).toEqual([
      { balanceId: 9n, recipientId: 9n, appId: 'app', code: UNBUILDABLE_CODE, message: 'the bLIP-10 record cannot fit in 1024 bytes' },
    ]);
  });

  describe('payments of at most MAX_PAYMENT_SATS and maxSendable', () => {
    const sum = (sats: bigint[]) => sats.reduce((a, b) => a + b, 0n);

    it('pays a balance above MAX_PAYMENT_SATS in several payments of one run: exact amounts, each its own reference, preimage and bLIP-10 value', () => {
      let preimages = 0;
      const plan = planPayout([due({ owedMsat: 2_500_000_500n })], counter(), LIMITS, () => String(++preimages).padStart(64, '0'));
      expect(plan.keysends.map((k) => k.amountSats)).toEqual([1_000_000n, 1_000_000n, 500_000n]);
      expect(plan.keysends.every((k) => k.balanceId === 1n && k.parts === undefined)).toBe(true);
      expect(new Set(plan.keysends.map((k) => k.reference)).size).toBe(3);
      expect(new Set(plan.keysends.map((k) => k.preimage)).size).toBe(3);
      const records = plan.keysends.map((k) => blip10(k.customRecords));
      expect(records.map((r) => r.value_msat)).toEqual([1_000_000_000, 1_000_000_000, 500_000_000]);
      expect(records.map((r) => r.uuid)).toEqual(plan.keysends.map((k) => k.reference));
      expect(new Set(records.map((r) => r.boost_uuid)).size).toBe(1);
      // The 500 msat below a sat stays owed, as for any balance.
      expect(sum(plan.keysends.map((k) => k.amountSats)) * 1000n).toBe(2_500_000_000n);
    });

    it('splits the 3x10^9-sat balance of the issue into capped payments that add up to it', () => {
      const plan = planPayout([due({ owedMsat: 3_000_000_000_000n })], counter(), { maxPaymentSats: 1_000_000_000n });
      expect(plan.keysends.map((k) => k.amountSats)).toEqual([1_000_000_000n, 1_000_000_000n, 1_000_000_000n]);
      expect(plan.unbuildable).toEqual([]);
    });

    it('makes at most MAX_PAYMENTS_PER_BALANCE payments of one balance in a run: the rest waits for the next', () => {
      const oneSatEach = due({ address: 'tiny@example.com', route: 'lnurlp', owedMsat: 5_000_000n, minSendableMsat: 1_000n, maxSendableMsat: 1_000n });
      const plan = planPayout([oneSatEach], counter(), LIMITS);
      expect(plan.keysends).toHaveLength(MAX_PAYMENTS_PER_BALANCE);
      expect(plan.keysends.every((k) => k.amountSats === 1n)).toBe(true);
    });

    it('is deterministic: the same balances and ids give the same plan', () => {
      const balances = [due({ owedMsat: 2_345_678_901n }), due({ balanceId: 2n, recipientId: 2n, owedMsat: 7_000n })];
      expect(planPayout(balances, counter(), LIMITS)).toEqual(planPayout(balances, counter(), LIMITS));
    });

    it("splits at an LNURL-pay address's maxSendable; a last piece below its minSendable stays owed", () => {
      const plan = planPayout(
        [
          due({
            address: 'bob@example.com',
            route: 'lnurlp',
            owedMsat: 2_500_000n,
            minSendableMsat: 600_000n,
            maxSendableMsat: 1_000_999n,
            commentAllowed: 40,
          }),
        ],
        counter(),
        LIMITS,
      );
      expect(plan.keysends.map((k) => [k.method, k.amountSats])).toEqual([
        ['invoice', 1_000n],
        ['invoice', 1_000n],
      ]);
      expect(plan.keysends.map((k) => blip10(k.customRecords).value_msat)).toEqual([1_000_000, 1_000_000]);
      expect(plan.keysends[0]!.comment).toMatch(/^stream 1000 sats · Show · Episode/);
      expect([...plan.keysends[0]!.comment!].length).toBeLessThanOrEqual(40);
    });

    it('caps an LNURL-pay payment at MAX_PAYMENT_SATS when the address allows more', () => {
      const plan = planPayout(
        [due({ address: 'bob@example.com', route: 'lnurlp', owedMsat: 1_500_000_000n, minSendableMsat: 1_000n, maxSendableMsat: 10_000_000_000n })],
        counter(),
        LIMITS,
      );
      expect(plan.keysends.map((k) => k.amountSats)).toEqual([1_000_000n, 500_000n]);
    });

    it('sets aside, with the reason, an address whose minimum is above the largest payment', () => {
      const plan = planPayout(
        [due({ address: 'big@example.com', route: 'lnurlp', owedMsat: 5_000_000n, minSendableMsat: 2_000_000n }), due({ balanceId: 2n, recipientId: 2n })],
        counter(),
        { maxPaymentSats: 1_000n },
      );
      expect(plan.keysends.map((k) => k.balanceId)).toEqual([2n]);
      expect(plan.unbuildable).toEqual([
        {
          balanceId: 1n,
          recipientId: 1n,
          appId: 'app',
          code: UNBUILDABLE_CODE,
          message: 'the address takes at least 2000 sats a payment, more than the largest payment (1000 sats)',
        },
      ]);
    });

    it('fails a large balance it cannot build alone, with none of its payments planned, and pays the others', () => {
      const poisoned = due({ recipientId: 9n, balanceId: 9n, owedMsat: 3_000_000_000n, feedGuid: '\u0001'.repeat(200), itemGuid: 'x'.repeat(256) });
      const plan = planPayout([due({ owedMsat: 1_500_000_000n }), poisoned, due({ recipientId: 2n, balanceId: 2n })], counter(), LIMITS);
      expect(plan.keysends.map((k) => [k.balanceId, k.amountSats])).toEqual([
        [1n, 1_000_000n],
        [1n, 500_000n],
        [2n, 10n],
      ]);
      expect(plan.unbuildable.map((u) => u.balanceId)).toEqual([9n]);
    });
  });

  describe("an LNURL-pay address's minSendable, per address", () => {
    const small = (balanceId: bigint, sats: bigint, over: Partial<DueBalance> = {}) =>
      due({
        balanceId,
        owedMsat: sats * 1000n,
        address: 'host@pods.test',
        route: 'lnurlp',
        minSendableMsat: 50_000n,
        maxSendableMsat: 100_000_000n,
        commentAllowed: 255,
        itemGuid: `item-${balanceId}`,
        itemTitle: `Episode ${balanceId}`,
        ...over,
      });

    it('pays balances each below the minimum with ONE invoice once they reach it: parts add up, the comment names the episodes', () => {
      const plan = planPayout([small(1n, 20n), small(2n, 20n), small(3n, 20n)], counter(), LIMITS);
      expect(plan.unbuildable).toEqual([]);
      expect(plan.keysends).toHaveLength(1);
      const [invoice] = plan.keysends;
      expect(invoice).toMatchObject({ balanceId: 1n, method: 'invoice', destination: 'host@pods.test', amountSats: 60n, customRecords: {} });
      expect(invoice!.parts).toEqual([
        { balanceId: 1n, msat: 20_000n },
        { balanceId: 2n, msat: 20_000n },
        { balanceId: 3n, msat: 20_000n },
      ]);
      expect(invoice!.comment).toBe('stream 60 sats · 3 episodes: Episode 1, Episode 2, Episode 3 · via App');
      expect(invoice!.preimage).toBeUndefined();
    });

    it('sends nothing while their sum is below the minimum (the money stays owed)', () => {
      expect(planPayout([small(1n, 20n), small(2n, 20n)], counter(), LIMITS)).toEqual({ keysends: [], transfers: [], unbuildable: [] });
    });

    it('keeps the comment within commentAllowed, and names episodes without a title by guid', () => {
      const plan = planPayout([small(1n, 30n, { itemTitle: '' }), small(2n, 30n, { commentAllowed: 10 })], counter(), LIMITS);
      expect(plan.keysends[0]!.comment).toBe('stream 60 sats · 2 episodes: item-1, Episode 2 · via App');
      const short = planPayout([small(1n, 30n, { commentAllowed: 10 }), small(2n, 30n)], counter(), LIMITS);
      expect(short.keysends[0]!.comment).toBe('stream 60 ');
    });

    it('packs small balances into invoices of at most maxSendable; a last one below the minimum waits', () => {
      const limits = { maxSendableMsat: 50_000n, minSendableMsat: 30_000n };
      const plan = planPayout(
        [1n, 2n, 3n, 4n, 5n].map((id) => small(id, 20n, limits)),
        counter(),
        LIMITS,
      );
      expect(plan.keysends.map((k) => [k.amountSats, k.parts!.map((p) => p.balanceId)])).toEqual([
        [40n, [1n, 2n]],
        [40n, [3n, 4n]],
      ]);
    });

    it("pays a balance at or above the minimum on its own, and combines only the address's small ones", () => {
      const plan = planPayout([small(1n, 70n), small(2n, 30n), small(3n, 25n)], counter(), LIMITS);
      expect(plan.keysends.map((k) => [k.balanceId, k.amountSats, k.parts?.length])).toEqual([
        [1n, 70n, undefined],
        [2n, 55n, 2],
      ]);
      expect(blip10(plan.keysends[0]!.customRecords)).toMatchObject({ value_msat: 70_000 });
    });

    it("never combines two apps' balances, nor two addresses'", () => {
      const plan = planPayout(
        [small(1n, 30n), small(2n, 30n, { appId: 'other' }), small(3n, 30n, { recipientId: 2n, address: 'other@pods.test' })],
        counter(),
        LIMITS,
      );
      expect(plan.keysends).toEqual([]);
    });
  });
});
