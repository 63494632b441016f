import { OFF_CURVE_PUBKEY, pubkey, recipient, valueBlock } from './testing/value-builders.js';
import { MAX_ADDRESS_RECIPIENTS, MAX_BLOCK_RECIPIENTS, parseValueBlock } from './value-block.js';

const issuesOf = (input: unknown) => {
  const result = parseValueBlock(input);
  if (result.ok) throw new Error('expected the block to be rejected');
  return result.issues;
};

describe('parseValueBlock accepts', () => {
  it('a valid block, defaulting fee to false and timeSplits to none', () => {
    const result = parseValueBlock(valueBlock([recipient(1, 50, { customKey: '696969', customValue: 'abc' }), recipient(2, 5, { fee: true })]));
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.value.recipients[0]!.fee).toBe(false);
      expect(result.value.timeSplits).toEqual([]);
    }
  });

  it('the same (address, customKey, customValue) twice, also when the address differs only in case', () => {
    const address = pubkey(0xabcdef);
    const result = parseValueBlock(
      valueBlock([
        recipient(1, 1, { address, customKey: '696969', customValue: 'a' }),
        recipient(2, 1, { address: address.toUpperCase(), customKey: '696969', customValue: 'a' }),
      ]),
    );
    expect(result.ok).toBe(true);
  });

  it('customKey bounds of the TLV range, in one canonical spelling', () => {
    for (const [customKey, stored] of [
      ['65536', '65536'],
      ['18446744073709551615', '18446744073709551615'],
      ['0696969', '696969'],
    ]) {
      const result = parseValueBlock(valueBlock([recipient(1, 1, { customKey, customValue: 'é'.repeat(128) })]));
      expect(result.ok && result.value.recipients[0]!.customKey).toBe(stored);
    }
  });

  it('a zero split beside a positive one: it receives nothing', () => {
    expect(parseValueBlock(valueBlock([recipient(1, 0), recipient(2, 0.000001), recipient(3, 1_000_000)])).ok).toBe(true);
  });

  it('fee splits adding up to exactly 100, summed exactly (33.4 + 66.6)', () => {
    const result = parseValueBlock(valueBlock([recipient(1, 1), recipient(2, 33.4, { fee: true }), recipient(3, 66.6, { fee: true })]));
    expect(result.ok).toBe(true);
  });
});

describe('parseValueBlock rejects, with the exact reason', () => {
  it('no recipients', () => {
    expect(issuesOf(valueBlock([]))).toEqual([{ path: 'recipients', message: 'at least one recipient is required' }]);
  });

  it.each([-1, 1_000_000.5, 1e-7, 0.1234567, 1e300, 5e-324])('a split of %p, outside the split rule', (split) => {
    expect(issuesOf(valueBlock([recipient(1, 1), recipient(2, split)]))).toEqual([
      { path: 'recipients[1].split', message: `${String(split)} is not a decimal from 0 to 1000000 with at most 6 decimal places` },
    ]);
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, '50', null])('a split of %p', (split) => {
    expect(issuesOf(valueBlock([recipient(1, split as number)]))).toEqual([
      { path: 'recipients[0].split', message: 'must be a decimal from 0 to 1000000 with at most 6 decimal places' },
    ]);
  });

  it('only zero splits: someone must receive the money', () => {
    expect(issuesOf(valueBlock([recipient(1, 0), recipient(2, 50, { fee: true })]))).toEqual([
      { path: 'recipients', message: 'at least one recipient without fee, with a split above 0, is required' },
    ]);
    const timeSplits = [{ startTime: 0, duration: 60, recipients: [recipient(2, 0)] }];
    expect(issuesOf(valueBlock([recipient(1, 1)], { timeSplits }))).toEqual([
      { path: 'timeSplits[0].recipients', message: 'at least one recipient, with a split above 0, is required' },
    ]);
  });

  it('a remotePercentage with more than 6 decimals, or not written as a decimal', () => {
    for (const remotePercentage of [1e-7, 33.1234567, 1e300]) {
      const timeSplits = [{ startTime: 0, duration: 60, remotePercentage, recipients: [recipient(2, 1)] }];
      expect(issuesOf(valueBlock([recipient(1, 1)], { timeSplits }))).toEqual([
        { path: 'timeSplits[0].remotePercentage', message: 'must be a number from 0 to 100 with at most 6 decimal places' },
      ]);
    }
  });

  it('fee percentages adding up to more than 100', () => {
    expect(issuesOf(valueBlock([recipient(1, 1), recipient(2, 60.5, { fee: true }), recipient(3, 40, { fee: true })]))).toEqual([
      { path: 'recipients', message: 'fee splits add up to 100.5, more than 100' },
    ]);
  });

  it.each([
    ['too short', `02${'a'.repeat(62)}`],
    ['an uncompressed prefix', `04${'a'.repeat(64)}`],
    ['not hex', `02${'g'.repeat(64)}`],
    ['a Lightning Address', 'alice@getalby.com'],
    ['well-formed but not a point on secp256k1', OFF_CURVE_PUBKEY],
  ])('a node address that is %s', (_, address) => {
    expect(issuesOf(valueBlock([recipient(1, 1, { address })]))).toEqual([
      {
        path: 'recipients[0].address',
        message: 'must be a compressed secp256k1 public key: 66 hex characters starting with 02 or 03, a point on the curve',
      },
    ]);
  });

  it.each(['abc', '-5', '1.5', ' 696969'])('a customKey of %p', (customKey) => {
    expect(issuesOf(valueBlock([recipient(1, 1, { customKey, customValue: 'x' })]))).toEqual([
      { path: 'recipients[0].customKey', message: 'must be a decimal integer' },
    ]);
  });

  it.each(['0', '1', '65535', '18446744073709551616', '99999999999999999999'])('a customKey outside the TLV range: %s', (customKey) => {
    expect(issuesOf(valueBlock([recipient(1, 1, { customKey, customValue: 'x' })]))).toEqual([
      { path: 'recipients[0].customKey', message: 'must be a TLV type from 65536 to 18446744073709551615' },
    ]);
  });

  it('a customValue over 256 bytes of UTF-8, though under 256 characters', () => {
    expect(issuesOf(valueBlock([recipient(1, 1, { customKey: '696969', customValue: 'é'.repeat(129) })]))).toEqual([
      { path: 'recipients[0].customValue', message: 'must be at most 256 bytes of UTF-8' },
    ]);
  });

  it.each(['7629169', '5482373484', '07629169'])('the reserved customKey %s', (customKey) => {
    expect(issuesOf(valueBlock([recipient(1, 1, { customKey, customValue: 'x' })]))).toEqual([
      { path: 'recipients[0].customKey', message: `${BigInt(customKey)} is reserved and cannot be a recipient's key` },
    ]);
  });

  it('a customKey without customValue', () => {
    expect(issuesOf(valueBlock([recipient(1, 1, { customKey: '696969' })]))).toEqual([
      { path: 'recipients[0].customValue', message: 'is required when customKey is set' },
    ]);
  });

  it('a customValue without customKey', () => {
    expect(issuesOf(valueBlock([recipient(1, 1, { customValue: 'abc' })]))).toEqual([
      { path: 'recipients[0].customKey', message: 'is required when customValue is set' },
    ]);
  });

  it('an unsupported value type, naming the supported ones', () => {
    expect(issuesOf({ ...valueBlock([recipient(1, 1)]), type: 'bitcoin' })).toEqual([
      { path: 'type', message: 'unsupported value type "bitcoin"; supported: lightning' },
    ]);
  });

  it('an unsupported method, naming the supported ones', () => {
    expect(issuesOf({ ...valueBlock([recipient(1, 1)]), method: 'amp' })).toEqual([
      { path: 'method', message: 'unsupported value method "amp"; supported: keysend, lnaddress' },
    ]);
  });

  it('an unsupported recipient type, naming the supported ones', () => {
    expect(issuesOf(valueBlock([recipient(1, 1, { type: 'bolt12', address: 'lno1abc' })]))).toEqual([
      { path: 'recipients[0].type', message: 'unsupported recipient type "bolt12"; supported: node, lnaddress' },
    ]);
  });

  it('Lightning Address recipients in a keysend or lnaddress block, lowercased, beside node recipients', () => {
    const parsed = parseValueBlock({
      ...valueBlock([recipient(1, 60), recipient(2, 40, { type: 'lnaddress', address: 'Alice@Example.COM' })]),
      method: 'lnaddress',
    });
    expect(parsed.ok && parsed.value.recipients.map((r) => [r.type, r.address])).toEqual([
      ['node', recipient(1, 60).address],
      ['lnaddress', 'alice@example.com'],
    ]);
  });

  it.each([
    ['alice', 'must be a Lightning Address: name@domain'],
    ['a@b@example.com', 'must be a Lightning Address: name@domain'],
    ['al ice@example.com', 'the name before @ may hold only a-z, 0-9, -, _, . and + (LUD-16), at most 64 characters'],
    ['alice@127.0.0.1', 'the domain must be a host name, not an IP address'],
    ['alice@[::1]', 'the domain must be a host name without a port'],
    ['alice@example.com:8080', 'the domain must be a host name without a port'],
    ['alice@localhost', 'the domain must be a host name such as example.com'],
    ['alice@-bad-.com', 'the domain must be a host name such as example.com'],
    ['alice\u0000@example.com', 'the name before @ may hold only a-z, 0-9, -, _, . and + (LUD-16), at most 64 characters'],
  ])('a Lightning Address %j is refused: %s', (address, message) => {
    expect(issuesOf(valueBlock([recipient(1, 1, { type: 'lnaddress', address })]))).toEqual([{ path: 'recipients[0].address', message }]);
  });

  it("a Lightning Address with a customKey: its records come from the address's keysend endpoint", () => {
    expect(issuesOf(valueBlock([recipient(1, 1, { type: 'lnaddress', address: 'alice@example.com', customKey: '696969', customValue: 'x' })]))).toEqual([
      { path: 'recipients[0].customKey', message: "applies to node recipients only: a Lightning Address's custom records come from its keysend endpoint" },
    ]);
  });

  it('more than 100 recipients', () => {
    const many = Array.from({ length: 101 }, (_, i) => recipient(i + 1, 1));
    expect(issuesOf(valueBlock(many))).toEqual([{ path: 'recipients', message: '101 recipients; at most 100 per list are allowed' }]);
  });

  it(`more than ${MAX_BLOCK_RECIPIENTS} recipients in the block and its time splits together`, () => {
    const timeSplits = Array.from({ length: 4 }, (_, k) => ({
      startTime: k * 60,
      duration: 60,
      recipients: Array.from({ length: 75 }, (_, i) => recipient(100 + k * 75 + i, 1)),
    }));
    expect(issuesOf(valueBlock([recipient(1, 1)], { timeSplits }))).toEqual([
      { path: 'recipients', message: '301 recipients in the block and its time splits together; at most 300 are allowed' },
    ]);
  });

  it(`more than ${MAX_ADDRESS_RECIPIENTS} distinct Lightning Addresses in one event (a repeated address counts once)`, () => {
    const addresses = Array.from({ length: 11 }, (_, i) => recipient(i, 1, { type: 'lnaddress', address: `a${i}@example.com` }));
    expect(parseValueBlock(valueBlock([...addresses.slice(0, 10), addresses[0]!])).ok).toBe(true);
    expect(issuesOf(valueBlock(addresses))).toEqual([
      { path: 'recipients', message: '11 distinct Lightning Address recipients; at most 10 per event are allowed' },
    ]);
  });

  it('only fee recipients', () => {
    expect(issuesOf(valueBlock([recipient(1, 5, { fee: true })]))).toEqual([
      { path: 'recipients', message: 'at least one recipient without fee, with a split above 0, is required' },
    ]);
  });

  it('a fee recipient inside a time split', () => {
    const timeSplits = [{ startTime: 0, duration: 60, recipients: [recipient(2, 1, { fee: true })] }];
    expect(issuesOf(valueBlock([recipient(1, 1)], { timeSplits }))).toEqual([
      {
        path: 'timeSplits[0].recipients[0].fee',
        message: 'fee recipients belong in the default block; its fee recipients are paid first in every segment',
      },
    ]);
  });

  it('a time split with no recipients, a negative start or a zero duration', () => {
    const timeSplits = [{ startTime: -1, duration: 0, recipients: [] }];
    expect(issuesOf(valueBlock([recipient(1, 1)], { timeSplits }))).toEqual([
      { path: 'timeSplits[0].startTime', message: 'must be a finite number of seconds, 0 or more' },
      { path: 'timeSplits[0].duration', message: 'must be a positive finite number' },
      { path: 'timeSplits[0].recipients', message: 'at least one recipient is required' },
    ]);
  });

  it('every problem at once, each with its own path', () => {
    const issues = issuesOf(valueBlock([recipient(1, -1), recipient(2, 1, { address: 'x' })]));
    expect(issues.map((i) => i.path)).toEqual(['recipients[0].split', 'recipients[1].address']);
  });
});
