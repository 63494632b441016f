import { createHash, randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import bolt11 from 'bolt11';

// The simulators' Lightning network: invoices are real, signed BOLT11 (any decoder reads them), and the payee
// derives each preimage from the invoice's payment secret, so a simulated wallet in another process that pays the
// invoice can answer with the true preimage, as a real node would. Development and tests only: real preimages are
// secret.

// The simulated payee node (a fixed test key: no real node has it).
const PAYEE_SECRET = 'd4c1e0b1f9f39b1b6c1f0d0a2bdfc1e95a7f3c3c8a0f7b0b6b8f0f2e9a1c2d3e';
export const SIM_PAYEE_PUBKEY = Buffer.from(secp256k1.getPublicKey(Buffer.from(PAYEE_SECRET, 'hex'), true)).toString('hex');

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest();
const preimageOf = (paymentSecret: string) => sha256(`splitstream-sim-preimage:${paymentSecret}`);

// var_onion_optin and payment_secret supported (what bolt11 writes by default).
const FEATURE_BITS = { word_length: 4, var_onion_optin: { required: false, supported: true }, payment_secret: { required: false, supported: true } };

export interface IssuedInvoice {
  invoice: string;
  paymentHash: string;
}

// A signed invoice from the simulated payee. Its description is the hash `descriptionHash` (LNURL-pay's
// description_hash), or, without one, a plain `description` and no hash at all. `minFinalCltvExpiry` is written as
// its min_final_cltv_expiry tag; without it the invoice carries no such tag (payers then take BOLT11's default, 18
// blocks).
export function issueInvoice(options: {
  msat: bigint;
  descriptionHash?: string;
  description?: string;
  expirySeconds?: number;
  minFinalCltvExpiry?: number;
}): IssuedInvoice {
  const paymentSecret = randomBytes(32).toString('hex');
  const paymentHash = sha256(preimageOf(paymentSecret)).toString('hex');
  const encoded = bolt11.encode(
    {
      millisatoshis: options.msat.toString(),
      timestamp: Math.floor(Date.now() / 1000),
      tags: [
        { tagName: 'payment_hash', data: paymentHash },
        options.descriptionHash
          ? { tagName: 'purpose_commit_hash', data: options.descriptionHash }
          : { tagName: 'description', data: options.description ?? 'splitstream simulator' },
        { tagName: 'expire_time', data: options.expirySeconds ?? 600 },
        ...(options.minFinalCltvExpiry === undefined ? [] : [{ tagName: 'min_final_cltv_expiry', data: options.minFinalCltvExpiry }]),
        { tagName: 'payment_secret', data: paymentSecret },
        { tagName: 'feature_bits', data: FEATURE_BITS },
      ],
    },
    false, // no library defaults: bolt11 would add a min_final_cltv_expiry of 9 blocks to every invoice
  );
  return { invoice: bolt11.sign(encoded, PAYEE_SECRET).paymentRequest!, paymentHash };
}

// The preimage of an invoice this network issued, or undefined for any other invoice.
export function simulatedPreimage(invoice: string): string | undefined {
  try {
    const tags = bolt11.decode(invoice).tags;
    const secret = tags.find((t) => t.tagName === 'payment_secret')?.data;
    const hash = tags.find((t) => t.tagName === 'payment_hash')?.data;
    if (typeof secret !== 'string' || typeof hash !== 'string') return undefined;
    const preimage = preimageOf(secret);
    return sha256(preimage).toString('hex') === hash ? preimage.toString('hex') : undefined;
  } catch {
    return undefined;
  }
}
