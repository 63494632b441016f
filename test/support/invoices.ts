import bolt11 from 'bolt11';
import { randomBytes } from 'node:crypto';

// A fixed test key: real, signed BOLT11 invoices whose payee is this node.
export const PAYEE_PRIVATE_KEY = 'e126f68f7eafcc8b74f54d269fe206be715000f94dac067d1c04a8ca3b2db734';
export const PAYEE_PUBKEY = '03e7156ae33b0a208d0744199163177e909e80176e55d97a2f221ede0f934dd9ad';

export function signedInvoice(options: { sats?: number; expiresInSeconds?: number; createdSecondsAgo?: number; network?: 'bc' | 'tb' }) {
  const paymentHash = randomBytes(32).toString('hex');
  const encoded = bolt11.encode({
    ...(options.network === 'tb' && { network: { bech32: 'tb', pubKeyHash: 0x6f, scriptHash: 0xc4, validWitnessVersions: [0, 1] } }),
    ...(options.sats !== undefined && { satoshis: options.sats }),
    timestamp: Math.floor(Date.now() / 1000) - (options.createdSecondsAgo ?? 0),
    tags: [
      { tagName: 'payment_hash', data: paymentHash },
      { tagName: 'description', data: 'splitstream test' },
      { tagName: 'expire_time', data: options.expiresInSeconds ?? 3_600 },
      { tagName: 'payment_secret', data: randomBytes(32).toString('hex') },
    ],
  });
  return { invoice: bolt11.sign(encoded, PAYEE_PRIVATE_KEY).paymentRequest!, paymentHash };
}
