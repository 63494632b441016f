import { secp256k1 } from '@noble/curves/secp256k1.js';

const COMPRESSED_PUBKEY = /^0[23][0-9a-fA-F]{64}$/;
// Decompressing a point (a modular square root) is the most expensive step of ingesting an event, and the same
// few thousand recipients come back in every value block: answers are remembered, up to this many keys.
const REMEMBERED_KEYS = 50_000;
const checked = new Map<string, boolean>();

function onCurve(hex: string): boolean {
  try {
    secp256k1.Point.fromHex(hex);
    return true;
  } catch {
    return false;
  }
}

// A Lightning node id: a compressed secp256k1 public key that is a point on the curve. A well-formed string
// that is not on the curve can never be paid, so it is refused when it arrives, not at payout time.
export function isNodePubkey(hex: string): boolean {
  if (!COMPRESSED_PUBKEY.test(hex)) return false;
  const key = hex.toLowerCase();
  let valid = checked.get(key);
  if (valid === undefined) {
    valid = onCurve(key);
    // The oldest answer goes (a Map iterates in insertion order): a flood of new keys never wipes every app's.
    if (checked.size >= REMEMBERED_KEYS) checked.delete(checked.keys().next().value!);
    checked.set(key, valid);
  }
  return valid;
}
