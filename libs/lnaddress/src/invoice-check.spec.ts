import { createHash } from 'node:crypto';
import bolt11 from 'bolt11';
import { issueInvoice } from '@splitstream/lightning-sim';
import { checkInvoice } from './invoice-check.js';
import { LnaddressError } from './route.js';

const metadataHash = createHash('sha256').update('[["text/plain","Sats for alice"]]').digest('hex');
const now = new Date();
const expected = { msat: 21_000n, metadataHash, now, minLifetimeSeconds: 60, maxCltvExpiryBlocks: 144 };
const refusal = (invoice: string) => {
  try {
    checkInvoice(invoice, expected);
  } catch (error) {
    expect(error).toBeInstanceOf(LnaddressError);
    return { code: (error as LnaddressError).code, message: (error as Error).message };
  }
  throw new Error('the invoice was accepted');
};

describe('checkInvoice (pure)', () => {
  it("accepts a signed invoice for exactly the amount, with the metadata's description hash, giving its payment hash", () => {
    const { invoice, paymentHash } = issueInvoice({ msat: 21_000n, descriptionHash: metadataHash });
    expect(checkInvoice(invoice, expected)).toEqual({ paymentHash, expiresAt: expect.any(Date) });
  });

  it('accepts an invoice asking for a min_final_cltv_expiry of exactly the bound (144 blocks)', () => {
    const { invoice, paymentHash } = issueInvoice({ msat: 21_000n, descriptionHash: metadataHash, minFinalCltvExpiry: 144 });
    expect(checkInvoice(invoice, expected).paymentHash).toBe(paymentHash);
  });

  it("accepts an invoice with no min_final_cltv_expiry tag (BOLT11's default, 18 blocks, is under the bound)", () => {
    const { invoice, paymentHash } = issueInvoice({ msat: 21_000n, descriptionHash: metadataHash });
    expect(bolt11.decode(invoice).tags.map((t) => t.tagName)).not.toContain('min_final_cltv_expiry');
    expect(checkInvoice(invoice, expected).paymentHash).toBe(paymentHash);
  });

  it("applies BOLT11's default of 18 blocks to an invoice with no min_final_cltv_expiry tag", () => {
    const { invoice } = issueInvoice({ msat: 21_000n, descriptionHash: metadataHash });
    expect(() => checkInvoice(invoice, { ...expected, maxCltvExpiryBlocks: 17 })).toThrow(
      'the invoice was refused: it asks for a min_final_cltv_expiry of 18 blocks, more than the 17 accepted',
    );
    expect(checkInvoice(invoice, { ...expected, maxCltvExpiryBlocks: 18 }).paymentHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    ['one msat more', { msat: 21_001n, descriptionHash: metadataHash }, 'the invoice was refused: it is for 21001 msat, not the 21000 msat asked for'],
    [
      'another description hash',
      { msat: 21_000n, descriptionHash: 'ab'.repeat(32) },
      "the invoice was refused: its description hash is not the hash of the address's metadata",
    ],
    [
      'a min_final_cltv_expiry one block above the bound',
      { msat: 21_000n, descriptionHash: metadataHash, minFinalCltvExpiry: 145 },
      'the invoice was refused: it asks for a min_final_cltv_expiry of 145 blocks, more than the 144 accepted',
    ],
    [
      'a min_final_cltv_expiry of 4000 blocks (~28 days)',
      { msat: 21_000n, descriptionHash: metadataHash, minFinalCltvExpiry: 4000 },
      'the invoice was refused: it asks for a min_final_cltv_expiry of 4000 blocks, more than the 144 accepted',
    ],
    [
      'no description hash (a plain description)',
      { msat: 21_000n, description: 'thanks' },
      "the invoice was refused: it carries no description hash; LUD-06 requires the hash of the address's metadata",
    ],
    [
      'a lifetime under a minute',
      { msat: 21_000n, descriptionHash: metadataHash, expirySeconds: 30 },
      /^the invoice was refused: it expires at .*, too soon to pay$/,
    ],
  ])('refuses an invoice with %s', (_what, options, message) => {
    expect(refusal(issueInvoice(options).invoice)).toEqual({
      code: 'invoice_refused',
      message: expect.stringMatching(message instanceof RegExp ? message : `^${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
    });
  });

  it('refuses what is not a BOLT11 invoice', () => {
    expect(refusal('lnbc1notaninvoice')).toEqual({
      code: 'invoice_refused',
      message: expect.stringMatching(/^the invoice was refused: it is not a BOLT11 invoice/),
    });
  });
});
