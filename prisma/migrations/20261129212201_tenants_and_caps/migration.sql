/*
  Warnings:

  - A unique constraint covering the columns `[recipient_id,app_id,feed_guid,item_guid,remote_feed_guid,remote_item_guid]` on the table `balance` will be added. If there are existing duplicate values, this will fail.

*/
-- DropIndex
DROP INDEX "balance_recipient_id_feed_guid_item_guid_remote_feed_guid_r_key";

-- DropIndex
DROP INDEX "keysend_status_idx";

-- AlterTable
ALTER TABLE "balance" ADD COLUMN     "app_id" TEXT NOT NULL DEFAULT '';

-- Existing balances belong to the app whose events accrued them (a balance fed by several apps keeps '',
-- visible to admin keys only).
UPDATE "balance" b SET "app_id" = s.app_id
FROM (SELECT a.balance_id, MIN(e.app_id) AS app_id FROM "allocation" a JOIN "listening_event" e ON e.id = a.event_id
      GROUP BY a.balance_id HAVING COUNT(DISTINCT e.app_id) = 1) s
WHERE b.id = s.balance_id;

-- AlterTable
ALTER TABLE "listening_event" ADD COLUMN     "listener_id" TEXT;

-- CreateTable
CREATE TABLE "app" (
    "id" TEXT NOT NULL,
    "day_cap_msat" BIGINT,
    "month_cap_msat" BIGINT,
    "listener_day_cap_msat" BIGINT,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "app_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "app_caps_check" CHECK ("day_cap_msat" >= 0 AND "month_cap_msat" >= 0 AND "listener_day_cap_msat" >= 0)
);

-- CreateTable
CREATE TABLE "app_spend" (
    "app_id" TEXT NOT NULL,
    "period" TEXT NOT NULL,
    "msat" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "app_spend_pkey" PRIMARY KEY ("app_id","period"),
    CONSTRAINT "app_spend_msat_check" CHECK ("msat" >= 0)
);

-- CreateIndex
CREATE INDEX "balance_app_id_recipient_id_idx" ON "balance"("app_id", "recipient_id");

-- CreateIndex
CREATE INDEX "balance_feed_guid_idx" ON "balance"("feed_guid");

-- CreateIndex
CREATE UNIQUE INDEX "balance_recipient_id_app_id_feed_guid_item_guid_remote_feed_key" ON "balance"("recipient_id", "app_id", "feed_guid", "item_guid", "remote_feed_guid", "remote_item_guid");

-- CreateIndex
CREATE INDEX "keysend_status_id_idx" ON "keysend"("status", "id");

-- CreateIndex
CREATE INDEX "keysend_recipient_id_id_idx" ON "keysend"("recipient_id", "id");

-- CreateIndex
CREATE INDEX "keysend_balance_id_idx" ON "keysend"("balance_id");

-- CreateIndex
CREATE INDEX "listening_event_app_id_received_at_idx" ON "listening_event"("app_id", "received_at");
