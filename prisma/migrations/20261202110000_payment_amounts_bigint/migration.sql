-- Money columns are 64-bit: a payment of more than 2147483647 sats (one app can accrue that for one node) failed
-- every later payout run of every app.
ALTER TABLE "payment" ALTER COLUMN "amount_sats" TYPE BIGINT, ALTER COLUMN "fee_sats" TYPE BIGINT;
