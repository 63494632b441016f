import { createHash } from 'node:crypto';
import { pubkey, OFF_CURVE_PUBKEY } from '../../money/src/testing/value-builders.js';
import { keysendRoute, MAX_COMMENT_CHARS, payRequestRoute } from './route.js';

const payRequest = { tag: 'payRequest', callback: 'https://pods.test/cb', minSendable: 1_000, maxSendable: 5_000_000, metadata: '[["text/plain","hi"]]' };

describe('keysendRoute (pure)', () => {
  it('takes the node (lowercased) and its custom data, one spelling per TLV type', () => {
    expect(keysendRoute({ status: 'OK', tag: 'keysend', pubkey: pubkey(3).toUpperCase(), customData: [{ customKey: '0696969', customValue: 'w' }] })).toEqual({
      kind: 'keysend',
      pubkey: pubkey(3),
      customRecords: { '696969': 'w' },
    });
  });

  it.each([
    [{ tag: 'keysend', pubkey: OFF_CURVE_PUBKEY }, /pubkey: pubkey is not a node public key on secp256k1/],
    [{ tag: 'keysend', pubkey: pubkey(3), customData: [{ customKey: '7629169', customValue: 'x' }] }, /customKey "7629169" 7629169 is reserved/],
    [{ tag: 'keysend', pubkey: pubkey(3), customData: [{ customKey: '5', customValue: 'x' }] }, /must be a TLV type from 65536/],
    [{ status: 'ERROR', reason: 'no' }, /not usable/],
  ])('says why an answer cannot be used: %j', (body, message) => {
    expect(keysendRoute(body)).toMatch(message);
  });
});

describe('payRequestRoute (pure)', () => {
  it('takes the limits as bigint msat, the comment length (0 when absent) and the metadata hash', () => {
    expect(payRequestRoute(payRequest)).toEqual({
      kind: 'lnurlp',
      callback: 'https://pods.test/cb',
      minSendableMsat: 1_000n,
      maxSendableMsat: 5_000_000n,
      commentAllowed: 0,
      metadataHash: createHash('sha256').update(payRequest.metadata, 'utf8').digest('hex'),
    });
  });

  it('accepts any commentAllowed (LUD-12 sets no maximum), keeping at most MAX_COMMENT_CHARS', () => {
    expect(payRequestRoute({ ...payRequest, commentAllowed: 255 })).toMatchObject({ commentAllowed: 255 });
    expect(payRequestRoute({ ...payRequest, commentAllowed: 4096 })).toMatchObject({ commentAllowed: MAX_COMMENT_CHARS });
    expect(payRequestRoute({ ...payRequest, commentAllowed: 2 ** 40 })).toMatchObject({ commentAllowed: MAX_COMMENT_CHARS });
  });

  it.each([
    [{ ...payRequest, minSendable: 6_000_000 }, /minSendable is above maxSendable/],
    [{ ...payRequest, metadata: '{"not":"an array"}' }, /metadata is not a JSON array/],
    [{ ...payRequest, maxSendable: 1e300 }, /maxSendable/],
    [{ ...payRequest, callback: 'not a url' }, /callback is not a URL/],
    [{ ...payRequest, tag: 'withdrawRequest' }, /tag/],
  ])('says why an answer cannot be used: %j', (body, message) => {
    expect(payRequestRoute(body)).toMatch(message);
  });
});
