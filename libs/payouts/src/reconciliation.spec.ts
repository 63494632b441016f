import type { PaymentRow } from '@splitstream/payments';
import { reconcileStep, type ReconcileRules } from './reconciliation.service.js';

// The evidence rules per rail, pure: what one wallet answer does to one unknown payment.
const HOUR = 3_600_000;
const now = new Date('2026-12-02T12:00:00Z');
const ago = (ms: number) => new Date(now.getTime() - ms);
const payment = (over: Partial<PaymentRow> = {}): PaymentRow => ({
  id: 1n,
  payout_id: 1n,
  balance_id: 1n,
  recipient_id: 1n,
  app_id: 'app',
  amount_sats: 10n,
  method: 'keysend',
  destination: '02' + '0'.repeat(64),
  reference: 'ref',
  custom_records: {},
  preimage: null,
  invoice: null,
  invoice_expires_at: null,
  payment_hash: null,
  sent_at: ago(HOUR),
  created_at: ago(HOUR),
  ...over,
});
const alby: ReconcileRules = { choosesPreimage: false, absentAfterSeconds: 15 * 24 * 3600, resendAfterSeconds: 120 };
const nwc: ReconcileRules = { ...alby, choosesPreimage: true };
const record = { amountSats: 10, feeSats: 1, paymentHash: 'a'.repeat(64), preimage: 'b'.repeat(64) };

describe('reconcileStep', () => {
  it('pays what the wallet has settled and returns to owed what it reports failed, on either rail', () => {
    for (const rules of [alby, nwc]) {
      expect(reconcileStep(payment(), { state: 'settled', record }, rules, now)).toMatchObject({ kind: 'paid', record });
      expect(reconcileStep(payment(), { state: 'failed' }, rules, now)).toMatchObject({ kind: 'not_paid' });
      expect(reconcileStep(payment(), { state: 'pending' }, rules, now)).toMatchObject({ kind: 'wait' });
    }
  });

  it('Alby: a payment held past 24 h (absent from the settled list) is not taken as unpaid: it waits until the longest hold has passed', () => {
    expect(reconcileStep(payment({ sent_at: ago(25 * HOUR) }), undefined, alby, now)).toMatchObject({ kind: 'wait' });
    expect(reconcileStep(payment({ sent_at: ago(14 * 24 * HOUR) }), undefined, alby, now)).toMatchObject({ kind: 'wait' });
    expect(reconcileStep(payment({ sent_at: ago(15 * 24 * HOUR + 1) }), undefined, alby, now)).toMatchObject({ kind: 'not_paid' });
    // An invoice payment whose payee holds the HTLC past 24 h (within the CLTV bound): not re-paid either.
    const held = payment({ method: 'invoice', invoice: 'lnbc1', payment_hash: 'd'.repeat(64), invoice_expires_at: ago(23 * HOUR), sent_at: ago(25 * HOUR) });
    expect(reconcileStep(held, undefined, alby, now)).toMatchObject({ kind: 'wait' });
  });

  it('NWC: a keysend the wallet never saw is sent again with its own preimage within its window, and not paid only after it', () => {
    const keysend = { preimage: 'c'.repeat(64), payment_hash: 'd'.repeat(64) };
    expect(reconcileStep(payment({ ...keysend, sent_at: ago(60_000) }), undefined, nwc, now)).toMatchObject({ kind: 'wait' });
    expect(reconcileStep(payment({ ...keysend, sent_at: ago(25 * HOUR) }), undefined, nwc, now)).toEqual({ kind: 'resend' });
    expect(reconcileStep(payment({ ...keysend, sent_at: ago(15 * 24 * HOUR + 1) }), undefined, nwc, now)).toMatchObject({ kind: 'not_paid' });
  });

  it("NWC: an invoice payment the wallet never saw is paid again with the same invoice until the invoice's expiry, not paid after it", () => {
    const invoice = { method: 'invoice', invoice: 'lnbc1', payment_hash: 'd'.repeat(64) };
    expect(reconcileStep(payment({ ...invoice, invoice_expires_at: new Date(now.getTime() + 60_000) }), undefined, nwc, now)).toEqual({ kind: 'resend' });
    expect(reconcileStep(payment({ ...invoice, invoice_expires_at: ago(1) }), undefined, nwc, now)).toMatchObject({ kind: 'not_paid' });
  });

  it('NWC: a payment whose hash was never known cannot be looked up: it follows the absence rule, never a re-send', () => {
    expect(reconcileStep(payment({ sent_at: ago(25 * HOUR) }), undefined, nwc, now)).toMatchObject({ kind: 'wait' });
  });
});
