-- Each payment names its app (its balance's, copied when the payment is recorded), so a run's payments of one app
-- are found by index: an app's list of runs asks, per run, whether it had a payment of its own and what its own
-- payments add up to, which before read every payment of the run through its balance (about 8,000 per run).
ALTER TABLE "payment" ADD COLUMN "app_id" TEXT;
UPDATE "payment" p SET "app_id" = b."app_id" FROM "balance" b WHERE b."id" = p."balance_id";
ALTER TABLE "payment" ALTER COLUMN "app_id" SET NOT NULL;

-- Replaces the index on payout_id alone (its prefix), so recording a payment updates as many indexes as before.
DROP INDEX "payment_payout_id_idx";
CREATE INDEX "payment_payout_id_app_id_idx" ON "payment"("payout_id", "app_id");
