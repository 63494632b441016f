import { secp256k1 } from '@noble/curves/secp256k1.js';
import type { ValueBlockInput } from '../value-block.js';

const pubkeys = new Map<number, string>();

// Deterministic node pubkeys for tests: the public key of secret key n + 1, a real point on the curve.
export const pubkey = (n: number): string => {
  let key = pubkeys.get(n);
  if (!key) {
    const secret = Buffer.from((BigInt(n) + 1n).toString(16).padStart(64, '0'), 'hex');
    key = Buffer.from(secp256k1.getPublicKey(secret, true)).toString('hex');
    pubkeys.set(n, key);
  }
  return key;
};

// 02/03 and 64 hex digits, but no point on secp256k1 has this x coordinate.
export const OFF_CURVE_PUBKEY = `02${'0'.repeat(63)}5`;

type RecipientInput = ValueBlockInput['recipients'][number];

export const recipient = (n: number, split: number, extra: Partial<RecipientInput> = {}): RecipientInput => ({
  name: `R${n}`,
  type: 'node',
  address: pubkey(n),
  split,
  ...extra,
});

export const valueBlock = (recipients: RecipientInput[], extra: Partial<ValueBlockInput> = {}): ValueBlockInput => ({
  type: 'lightning',
  method: 'keysend',
  recipients,
  ...extra,
});
