-- What each payment takes from each balance, to the msat: one part for a payment of one balance, several for an
-- invoice that pays a Lightning address several small balances at once (each below its minimum). The books move
-- money by parts, so every msat stays on its own episode balance.
CREATE TABLE "payment_part" (
  "payment_id" BIGINT NOT NULL REFERENCES "payment" ("id"),
  "balance_id" BIGINT NOT NULL REFERENCES "balance" ("id"),
  "msat" BIGINT NOT NULL CHECK ("msat" > 0),
  PRIMARY KEY ("payment_id", "balance_id")
);
CREATE INDEX "payment_part_balance_id_idx" ON "payment_part" ("balance_id");
INSERT INTO "payment_part" ("payment_id", "balance_id", "msat") SELECT "id", "balance_id", "amount_sats" * 1000 FROM "payment";

-- The comment an invoice payment asks its invoice with (within the address commentAllowed), chosen by the plan.
ALTER TABLE "payment" ADD COLUMN "comment" TEXT;
