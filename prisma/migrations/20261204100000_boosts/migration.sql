-- Boosts (POST /v1/boosts): a one-off payment with a message, split like a stream and paid at once by its own job.
-- boost_id is the app's idempotent id, payload the canonical request as stored (same id and same payload: a
-- duplicate), boost_uuid the bLIP-10 boost_uuid every payment of the boost carries.
CREATE TABLE "boost" (
    "id" BIGSERIAL NOT NULL,
    "app_id" TEXT NOT NULL,
    "boost_id" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "amount_msat" BIGINT NOT NULL,
    "listener_id" TEXT,
    "boost_uuid" UUID NOT NULL,
    "received_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "applied_at" TIMESTAMP(3),
    "apply_error" TEXT,
    CONSTRAINT "boost_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "boost_amount_positive" CHECK ("amount_msat" > 0)
);
CREATE UNIQUE INDEX "boost_app_id_boost_id_key" ON "boost"("app_id", "boost_id");
CREATE INDEX "boost_app_id_id_idx" ON "boost"("app_id", "id");
CREATE INDEX "boost_feed_idx" ON "boost"("app_id", (("payload"->>'feedGuid')), "id");

-- A boost balance holds one recipient share of one boost: paid by the boost job only, never by a scheduled run.
-- Stream balances keep their one row per (recipient, app, episode, remote item), boost balances one per
-- (boost, recipient, remote item).
ALTER TABLE "balance" ADD COLUMN "boost_id" BIGINT;
ALTER TABLE "balance" ADD CONSTRAINT "balance_boost_id_fkey" FOREIGN KEY ("boost_id") REFERENCES "boost"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
DROP INDEX "balance_recipient_id_app_id_feed_guid_item_guid_remote_feed_key";
CREATE UNIQUE INDEX "balance_stream_key" ON "balance"("recipient_id", "app_id", "feed_guid", "item_guid", "remote_feed_guid", "remote_item_guid") WHERE "boost_id" IS NULL;
CREATE UNIQUE INDEX "balance_boost_key" ON "balance"("boost_id", "recipient_id", "remote_feed_guid", "remote_item_guid") WHERE "boost_id" IS NOT NULL;

-- What a boost share became: `joined_msat` went to the recipient stream balance (a share, or the sub-sat rest
-- of one, too small to send alone).
ALTER TABLE "balance" ADD COLUMN "boost_joined_msat" BIGINT NOT NULL DEFAULT 0;

-- Boost runs are their own payout rows (trigger boost): the one-active-run rule is for scheduled and manual runs.
DROP INDEX "payout_one_active";
CREATE UNIQUE INDEX "payout_one_active" ON "payout" ((true)) WHERE "status" IN ('queued', 'running') AND NOT "superseded" AND "trigger" <> 'boost';
