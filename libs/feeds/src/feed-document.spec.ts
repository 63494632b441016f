import { readFileSync } from 'node:fs';
import { feedDocumentOf, podcastIndexDocumentOf } from './feed-document.js';

const show = readFileSync(new URL('../../../test/fixtures/byref/show.xml', import.meta.url), 'utf8').replaceAll('{{BASE}}', 'https://feeds.example');

describe('feedDocumentOf', () => {
  it("keeps the channel's block and the blocks of items that have their own (not the channel's partytime copies onto the others)", () => {
    const document = feedDocumentOf(show.replace('{{CHANNEL_HOST_SPLIT}}', '90'))!;
    expect(document.feedGuid).toBe('7d1e2f3a-4b5c-5d6e-8f90-a1b2c3d4e5f6');
    expect(document.channel).toMatchObject({ type: 'lightning', method: 'keysend' });
    expect(Object.keys(document.items).sort()).toEqual(['byref-ep-1', 'byref-ep-3', 'byref-ep-4', 'byref-ep-5']);
    expect(document.items['byref-ep-1']).toHaveProperty('valueTimeSplits');
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
