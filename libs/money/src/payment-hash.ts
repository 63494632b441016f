import { createHash } from 'node:crypto';

// A Lightning payment hash: SHA-256 of the 32-byte preimage (both as hex).
export const paymentHashOf = (preimageHex: string): string => createHash('sha256').update(Buffer.from(preimageHex, 'hex')).digest('hex');
