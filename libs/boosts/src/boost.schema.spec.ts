import { BLIP10_MAX_BYTES } from '@splitstream/money';
import { boostSchema } from './boost.schema.js';

const HOST = '03ae9f91a0cb8ff43840e3c322c4c61f019d8c1c3cea15a25cfc425ac605e61a4a';
const valid = (overrides: Record<string, unknown> = {}) => ({
  id: 'b-1',
  feedGuid: 'feed',
  itemGuid: 'item',
  position: 12.5,
  amountSats: 100,
  message: 'hello',
  value: { type: 'lightning', method: 'keysend', recipients: [{ type: 'node', address: HOST, split: 1 }] },
  ...overrides,
});
const issuesOf = (body: unknown) => {
  const parsed = boostSchema.safeParse(body);
  return parsed.success ? [] : parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
};

describe('boostSchema', () => {
  it('takes a boost with its inline value block', () => {
    expect(issuesOf(valid())).toEqual([]);
    expect(issuesOf(valid({ replyAddress: 'sat@pods.example', replyCustomKey: '696969', replyCustomValue: 'w' }))).toEqual([]);
  });

  it('refuses a message that cannot fit the bLIP-10 record, naming the byte limit (multi-byte characters count as bytes)', () => {
    const [issue, ...rest] = issuesOf(valid({ message: '€'.repeat(330) }));
    expect(rest).toEqual([]);
    expect(issue).toEqual({ path: 'message', message: expect.stringContaining(`at most ${BLIP10_MAX_BYTES} bytes`) });
    expect(issuesOf(valid({ message: '€'.repeat(200) }))).toEqual([]);
  });

  it('counts the sender and the reply against the record too', () => {
    const message = 'm'.repeat(600);
    expect(issuesOf(valid({ message }))).toEqual([]);
    expect(issuesOf(valid({ message, senderName: 's'.repeat(256), replyCustomKey: '696969', replyCustomValue: 'v'.repeat(256) }))).toEqual([
      expect.objectContaining({ path: 'message' }),
    ]);
  });

  it('is strict: unknown fields, a reply key without its value, a bad reply address and fractional sats are refused', () => {
    expect(issuesOf({ ...valid(), mesage: 'x' })).toEqual([expect.objectContaining({ path: 'mesage' })]);
    expect(issuesOf(valid({ replyCustomKey: '696969' }))).toEqual([expect.objectContaining({ path: 'replyCustomValue' })]);
    expect(issuesOf(valid({ replyAddress: 'not an address' }))).toEqual([expect.objectContaining({ path: 'replyAddress' })]);
    expect(issuesOf(valid({ amountSats: 1.5 }))).toEqual([expect.objectContaining({ path: 'amountSats' })]);
    expect(issuesOf(valid({ message: '' }))).toEqual([expect.objectContaining({ path: 'message' })]);
  });
});
