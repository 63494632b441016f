-- A payment is a keysend or an invoice payment: the table says so.
ALTER TABLE "keysend" RENAME TO "payment";
ALTER SEQUENCE "keysend_id_seq" RENAME TO "payment_id_seq";
ALTER TABLE "payment" RENAME CONSTRAINT "keysend_pkey" TO "payment_pkey";
ALTER INDEX "keysend_balance_id_idx" RENAME TO "payment_balance_id_idx";
ALTER INDEX "keysend_payout_id_idx" RENAME TO "payment_payout_id_idx";
ALTER INDEX "keysend_recipient_id_id_idx" RENAME TO "payment_recipient_id_id_idx";
ALTER INDEX "keysend_reference_key" RENAME TO "payment_reference_key";
ALTER INDEX "keysend_status_id_idx" RENAME TO "payment_status_id_idx";
ALTER TABLE "payment" RENAME CONSTRAINT "keysend_amount_check" TO "payment_amount_check";
ALTER TABLE "payment" RENAME CONSTRAINT "keysend_status_check" TO "payment_status_check";
ALTER TABLE "payment" RENAME CONSTRAINT "keysend_balance_id_fkey" TO "payment_balance_id_fkey";
ALTER TABLE "payment" RENAME CONSTRAINT "keysend_payout_id_fkey" TO "payment_payout_id_fkey";
ALTER TABLE "payment" RENAME CONSTRAINT "keysend_recipient_id_fkey" TO "payment_recipient_id_fkey";
ALTER TABLE "payment" ADD CONSTRAINT "payment_method_check" CHECK ("method" IN ('keysend', 'invoice'));
-- When the invoice of an invoice payment stops being payable: after it, a payment the wallet never saw cannot be made.
ALTER TABLE "payment" ADD COLUMN "invoice_expires_at" TIMESTAMP(3);
-- What the wallet said when an unknown payment was last looked up: the evidence an operator sees.
ALTER TABLE "payment" ADD COLUMN "checked_at" TIMESTAMP(3), ADD COLUMN "check_result" TEXT;
-- No payment hash is paid twice.
CREATE UNIQUE INDEX "payment_succeeded_hash_key" ON "payment"("payment_hash") WHERE "status" = 'succeeded';

ALTER TABLE "allocation" RENAME COLUMN "keysend_id" TO "payment_id";
ALTER INDEX "allocation_balance_id_keysend_id_idx" RENAME TO "allocation_balance_id_payment_id_idx";
ALTER INDEX "allocation_keysend_id_idx" RENAME TO "allocation_payment_id_idx";
ALTER TABLE "allocation" RENAME CONSTRAINT "allocation_keysend_id_fkey" TO "allocation_payment_id_fkey";

-- How each unknown payment was settled, and on what evidence: reconciliation, the proof of an operator, or the
-- override of an admin without evidence. Written in the transaction that moves the payment, and never updated.
CREATE TABLE "payment_verdict" (
    "id" BIGSERIAL NOT NULL,
    "payment_id" BIGINT NOT NULL,
    "outcome" TEXT NOT NULL,
    "basis" TEXT NOT NULL,
    "decided_by" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "evidence" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "payment_verdict_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "payment_verdict_outcome_check" CHECK ("outcome" IN ('succeeded', 'failed')),
    CONSTRAINT "payment_verdict_basis_check" CHECK ("basis" IN ('wallet', 'preimage', 'override'))
);
CREATE INDEX "payment_verdict_payment_id_idx" ON "payment_verdict"("payment_id");
ALTER TABLE "payment_verdict" ADD CONSTRAINT "payment_verdict_payment_id_fkey" FOREIGN KEY ("payment_id") REFERENCES "payment"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
