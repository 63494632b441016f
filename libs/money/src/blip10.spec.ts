import {
  BLIP10_MAX_BYTES,
  Blip10TooLargeError,
  blip10Metadata,
  blip10Summary,
  buildCustomRecords,
  minimalBlip10Bytes,
  type KeysendContext,
  TLV_KEYSEND_PREIMAGE,
  TLV_PODCAST_METADATA,
  truncateUtf8,
} from './blip10.js';

const context = (overrides: Partial<KeysendContext> = {}): KeysendContext => ({
  action: 'stream',
  valueMsat: 4_750n,
  valueMsatTotal: 100_000n,
  podcast: { guid: '917393e3-1b1e-5cef-ace4-edaa54e1f810', title: 'Podcasting 2.0', feedId: 920666, url: 'https://mp3s.nashownotes.com/pc20rss.xml' },
  episode: { guid: 'PC20-229', title: 'Episode 229', itemId: 123 },
  ts: 600.9,
  app: { name: 'CurioCaster', version: '1.2.3' },
  senderName: 'satoshi',
  recipient: { name: 'Host', customKey: '696969', customValue: 'wallet-1' },
  boostUuid: 'b-uuid',
  uuid: 'k-uuid',
  ...overrides,
});

const metadataOf = (records: Record<string, string>) => JSON.parse(records[TLV_PODCAST_METADATA]!);

describe('buildCustomRecords', () => {
  it('writes the bLIP-10 JSON under 7629169 with numbers as numbers', () => {
    expect(metadataOf(buildCustomRecords(context()))).toEqual({
      action: 'stream',
      value_msat: 4_750,
      value_msat_total: 100_000,
      guid: '917393e3-1b1e-5cef-ace4-edaa54e1f810',
      podcast: 'Podcasting 2.0',
      feedID: 920666,
      url: 'https://mp3s.nashownotes.com/pc20rss.xml',
      episode_guid: 'PC20-229',
      episode: 'Episode 229',
      itemID: 123,
      ts: 600,
      app_name: 'CurioCaster',
      app_version: '1.2.3',
      sender_name: 'satoshi',
      name: 'Host',
      boost_uuid: 'b-uuid',
      uuid: 'k-uuid',
    });
  });

  it("adds the recipient's customKey -> customValue as its own record, as a plain UTF-8 string", () => {
    const records = buildCustomRecords(context());
    expect(Object.keys(records).sort()).toEqual(['696969', TLV_PODCAST_METADATA]);
    expect(records['696969']).toBe('wallet-1');
  });

  it('leaves out sender_name for an anonymous listener and fields that are not known', () => {
    const metadata = metadataOf(buildCustomRecords(context({ senderName: undefined, podcast: { guid: 'g' }, episode: {}, recipient: {} })));
    expect(metadata).not.toHaveProperty('sender_name');
    expect(metadata).not.toHaveProperty('feedID');
    expect(metadata).not.toHaveProperty('episode_guid');
    expect(metadata).not.toHaveProperty('name');
    expect(metadata.guid).toBe('g');
  });

  it('carries remote_feed_guid and remote_item_guid for a time-split recipient', () => {
    const metadata = metadataOf(buildCustomRecords(context({ remoteFeedGuid: 'rf', remoteItemGuid: 'ri' })));
    expect(metadata).toMatchObject({ remote_feed_guid: 'rf', remote_item_guid: 'ri' });
  });

  it('never emits the keysend preimage record, even if asked to', () => {
    expect(buildCustomRecords(context())).not.toHaveProperty(TLV_KEYSEND_PREIMAGE);
    expect(() => buildCustomRecords(context({ recipient: { customKey: TLV_KEYSEND_PREIMAGE, customValue: 'x' } }))).toThrow(/reserved/);
  });

  it('keys are decimal strings and values strings', () => {
    for (const [key, value] of Object.entries(buildCustomRecords(context()))) {
      expect(key).toMatch(/^[0-9]+$/);
      expect(typeof value).toBe('string');
    }
  });
});

describe('bLIP-10 size bound', () => {
  const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

  it(`cuts long titles so the JSON stays within ${BLIP10_MAX_BYTES} bytes, keeping identifiers whole`, () => {
    const metadata = blip10Metadata(context({ podcast: { guid: 'g', title: 'P'.repeat(3_000) }, episode: { guid: 'e', title: 'E'.repeat(3_000) } }));
    expect(bytes(JSON.stringify(metadata))).toBeLessThanOrEqual(BLIP10_MAX_BYTES);
    expect(bytes(JSON.stringify(metadata))).toBeGreaterThan(BLIP10_MAX_BYTES - 8);
    expect(metadata).toMatchObject({ guid: 'g', episode_guid: 'e', uuid: 'k-uuid', value_msat: 4_750 });
    expect((metadata.podcast as string).length).toBeGreaterThan(100);
  });

  it('never breaks a multi-byte character, even with characters JSON escapes', () => {
    const title = '🎙️ Ünïcødé "quoted" \\ '.repeat(200);
    const metadata = blip10Metadata(context({ episode: { title }, podcast: { guid: 'g', title } }));
    const json = JSON.stringify(metadata);
    expect(bytes(json)).toBeLessThanOrEqual(BLIP10_MAX_BYTES);
    for (const field of ['episode', 'podcast'] as const) {
      const text = metadata[field] as string;
      expect(title.startsWith(text)).toBe(true);
      expect(text).not.toMatch(/[\uD800-\uDBFF]$/); // no lone high surrogate at the cut
    }
    expect(Buffer.from(json, 'utf8').toString('utf8')).toBe(json);
  });

  it('truncateUtf8 keeps whole characters within the byte budget', () => {
    expect(truncateUtf8('aé🎙️', 1)).toBe('a');
    expect(truncateUtf8('aé🎙️', 2)).toBe('a');
    expect(truncateUtf8('aé🎙️', 3)).toBe('aé');
    expect(truncateUtf8('aé🎙️', 7)).toBe('aé🎙');
    expect(truncateUtf8('short', 100)).toBe('short');
  });

  it('drops the url first, then caps free text, and only then the numeric ids: required fields stay whole', () => {
    const url = `https://example.com/${'u'.repeat(2_000)}`;
    const short = blip10Metadata(context({ podcast: { guid: 'g', title: 'Show', feedId: 1, url } }));
    expect(short).toMatchObject({ podcast: 'Show', episode: 'Episode 229', feedID: 1, name: 'Host', sender_name: 'satoshi' });
    expect(short.url).toBeUndefined();

    const longGuid = 'é'.repeat(150); // 300 bytes of identifiers that may never be cut
    const tight = blip10Metadata(
      context({ podcast: { guid: longGuid, title: 'T'.repeat(500), feedId: 1, url }, episode: { guid: 'e'.repeat(200), title: 'E'.repeat(500), itemId: 2 } }),
    );
    expect(Buffer.byteLength(JSON.stringify(tight))).toBeLessThanOrEqual(BLIP10_MAX_BYTES);
    expect(tight).toMatchObject({ guid: longGuid, episode_guid: 'e'.repeat(200), uuid: 'k-uuid', boost_uuid: 'b-uuid', value_msat: 4_750 });
    // The common cap cuts the long titles and leaves the short texts whole where they fit under it.
    expect((tight.podcast as string).length).toBe((tight.episode as string).length);
    expect(tight.app_version).toBe('1.2.3');
  });

  it('refuses a record whose required identifiers alone exceed the limit', () => {
    const huge = '\u0001'.repeat(1); // a control character JSON writes as six bytes
    const ids = { feedGuid: '\u0001'.repeat(130), itemGuid: 'x'.repeat(256) };
    expect(huge.length).toBe(1);
    expect(minimalBlip10Bytes(ids)).toBeGreaterThan(BLIP10_MAX_BYTES);
    expect(() => blip10Metadata(context({ podcast: { guid: ids.feedGuid }, episode: { guid: ids.itemGuid } }))).toThrow(Blip10TooLargeError);
    expect(minimalBlip10Bytes({ feedGuid: 'x'.repeat(256), itemGuid: 'y'.repeat(256) })).toBeLessThanOrEqual(BLIP10_MAX_BYTES);
  });
});

describe('blip10Summary (pure)', () => {
  const record = { action: 'stream', value_msat: 21_000, podcast: 'Show', episode: 'Ep 1', ts: 90, app_name: 'App', uuid: 'u-1', guid: 'g' };

  it('tells action and amount, show, episode, position, app and uuid on one line', () => {
    expect(blip10Summary(record, 255)).toBe('stream 21 sats · Show · Ep 1 · at 90 s · via App · uuid u-1');
  });

  it('falls back to the guids without titles, and cuts to whole characters', () => {
    expect(blip10Summary({ value_msat: 1_000, guid: 'g', episode_guid: 'e' }, 255)).toBe('stream 1 sats · g · e');
    expect(blip10Summary({ ...record, podcast: '🎙️ Show' }, 18)).toBe('stream 21 sats · 🎙');
    expect(blip10Summary(record, 0)).toBe('');
  });
});

describe('boost records', () => {
  const boost = { message: 'Great show! ⚡', replyAddress: 'satoshi@pods.example', replyCustomKey: '696969', replyCustomValue: 'sat-wallet' };

  it('carry action boost, the message, the sender and the reply fields', () => {
    expect(blip10Metadata(context({ action: 'boost', boost }))).toMatchObject({
      action: 'boost',
      message: 'Great show! ⚡',
      sender_name: 'satoshi',
      reply_address: 'satoshi@pods.example',
      reply_custom_key: '696969',
      reply_custom_value: 'sat-wallet',
      boost_uuid: 'b-uuid',
    });
  });

  it('never cut the message nor the sender: titles are cut first, and a record that cannot fit them is refused', () => {
    const long = 'x'.repeat(300);
    const record = blip10Metadata(
      context({
        action: 'boost',
        boost: { message: 'm'.repeat(500) },
        senderName: 's'.repeat(200),
        podcast: { guid: 'g', title: long },
        episode: { guid: 'e', title: long },
      }),
    );
    expect(record).toMatchObject({ message: 'm'.repeat(500), sender_name: 's'.repeat(200) });
    expect(JSON.stringify(record).length).toBeLessThanOrEqual(BLIP10_MAX_BYTES);
    expect(() => blip10Metadata(context({ action: 'boost', boost: { message: 'm'.repeat(1100) } }))).toThrow(Blip10TooLargeError);
  });

  it('size the smallest record of a boost with its message, so intake can refuse one that cannot fit', () => {
    const ids = { feedGuid: 'feed', itemGuid: 'item' };
    const plain = minimalBlip10Bytes(ids);
    expect(minimalBlip10Bytes({ ...ids, boost: { message: 'abc', senderName: 'sat' } })).toBeGreaterThan(plain + 'abc'.length + 'sat'.length);
  });

  it('size the same identifiers the same whatever was sized before (sizes are remembered per identifiers, remote items included)', () => {
    const episode = { feedGuid: 'remembered-feed', itemGuid: 'remembered-item' };
    const remote = { ...episode, remoteFeedGuid: 'r'.repeat(100), remoteItemGuid: 'remote-item' };
    const measured = [minimalBlip10Bytes(episode), minimalBlip10Bytes(remote)];
    expect(measured[1]).toBeGreaterThan(measured[0]! + 100);
    expect([minimalBlip10Bytes(remote), minimalBlip10Bytes(episode)]).toEqual([measured[1], measured[0]]);
    expect(minimalBlip10Bytes({ ...remote, remoteItemGuid: 'other' })).toBe(measured[1]! - 'remote-item'.length + 'other'.length);
    // Asked right after identifiers that differ in one field only (the last ones asked are remembered apart).
    for (const field of ['feedGuid', 'itemGuid', 'remoteFeedGuid', 'remoteItemGuid'] as const) {
      minimalBlip10Bytes(remote);
      expect(minimalBlip10Bytes({ ...remote, [field]: `${remote[field]}++` })).toBe(measured[1]! + 2);
    }
  });

  it('sum up a boost in an invoice comment with its sender and message', () => {
    const record = blip10Metadata(context({ action: 'boost', boost }));
    expect(blip10Summary(record, 200)).toMatch(/^boost 4 sats · satoshi: Great show! ⚡ · Podcasting 2.0/);
  });
});
