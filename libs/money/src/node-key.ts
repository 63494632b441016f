import { secp256k1 } from '@noble/curves/secp256k1.js';

const COMPRESSED_PUBKEY = /^0[23][0-9a-fA-F]{64}$/;

// A Lightning node id: a compressed secp256k1 public key that is a point on the curve. A well-formed string
// that is not on the curve can never be paid, so it is refused when it arrives, not at payout time.
export function isNodePubkey(hex: string): boolean {
  if (!COMPRESSED_PUBKEY.test(hex)) return false;
  try {
    secp256k1.Point.fromHex(hex.toLowerCase());
    return true;
  } catch {
    return false;
  }
}
