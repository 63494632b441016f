-- Boosts by reference (no inline value block): the block the worker found for the boost and where it came from,
-- and while its feed fails, when to try again and why (as for listening events).
ALTER TABLE "boost" ADD COLUMN "resolved_value" JSONB,
ADD COLUMN "value_source" JSONB,
ADD COLUMN "resolve_after" TIMESTAMP(3),
ADD COLUMN "resolve_error" TEXT;

-- Boost shares still owed: what a run pays between its chunks, app by app in turn, and what the sweep looks for.
CREATE INDEX "balance_boost_owed" ON "balance"("app_id", "boost_id") WHERE "boost_id" IS NOT NULL AND "owed_msat" > 0;

-- A recipient balances, for statements and recipient views of every app: the unique stream key that led with the
-- recipient is partial since boosts (stream balances only), so it no longer serves every balance of a recipient.
CREATE INDEX "balance_recipient_id_app_id_idx" ON "balance"("recipient_id", "app_id");
