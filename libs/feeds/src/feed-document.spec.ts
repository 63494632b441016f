import { readFileSync } from 'node:fs';
import { feedDocumentOf, podcastIndexDocumentOf, storable } from './feed-document.js';

const show = readFileSync(new URL('../../../test/fixtures/byref/show.xml', import.meta.url), 'utf8').replaceAll('{{BASE}}', 'https://feeds.example');

describe('feedDocumentOf', () => {
  it("keeps the channel's block and the blocks of items that have their own (not the channel's partytime copies onto the others)", () => {
    const document = feedDocumentOf(show.replace('{{CHANNEL_HOST_SPLIT}}', '90'))!;
    expect(document.feedGuid).toBe('7d1e2f3a-4b5c-5d6e-8f90-a1b2c3d4e5f6');
    expect(document.channel).toMatchObject({ type: 'lightning', method: 'keysend' });
    expect(Object.keys(document.items).sort()).toEqual(['byref-ep-1', 'byref-ep-3', 'byref-ep-4', 'byref-ep-5']);
    expect(document.items['byref-ep-1']).toHaveProperty('valueTimeSplits');
  });

  it('keeps no NUL or other control character (PostgreSQL refuses NUL in jsonb)', () => {
    const document = feedDocumentOf(
      show.replace('{{CHANNEL_HOST_SPLIT}}', '90').replace('<podcast:valueRecipient name="', '<podcast:valueRecipient name="\u0000\u0007'),
    )!;
    expect(JSON.stringify(document)).not.toMatch(/\\u00(0|1)/);
  });

  it('is undefined for what is not a feed', () => {
    expect(feedDocumentOf('<html><body>not a feed</body></html>')).toBeUndefined();
    expect(feedDocumentOf('')).toBeUndefined();
  });
});

describe('podcastIndexDocumentOf', () => {
  const value = { model: { type: 'lightning', method: 'keysend', suggested: '0.00000005000' }, destinations: [{ address: 'x', split: 1 }] };

  it("keeps the answer's model and destinations as the item's block or the channel's", () => {
    const answer = JSON.stringify({ status: 'true', query: {}, value: { ...value, extra: 1 }, description: 'Found' });
    expect(podcastIndexDocumentOf(answer, 'feed', 'item-1')).toEqual({ feedGuid: 'feed', channel: null, items: { 'item-1': value } });
    expect(podcastIndexDocumentOf(answer, 'feed')).toEqual({ feedGuid: 'feed', channel: value, items: {} });
  });

  it('gives a document without a block when the index has none, and undefined for an answer that is not JSON', () => {
    expect(podcastIndexDocumentOf(JSON.stringify({ status: 'true', value: null }), 'feed', 'item-1')).toEqual({ feedGuid: 'feed', channel: null, items: {} });
    expect(podcastIndexDocumentOf('<html>', 'feed')).toBeUndefined();
  });
});

describe('storable', () => {
  it('takes control characters and lone surrogates out of strings and keys, keeping tabs, newlines and pairs', () => {
    expect(storable({ 'a\u0000': ['x\u0000y\u001f', 'tab\tnl\n', '\ud83c\udfb5', 'lone\ud800'], n: 1 })).toEqual({
      a: ['xy', 'tab\tnl\n', '\ud83c\udfb5', 'lone'],
      n: 1,
    });
  });
});
