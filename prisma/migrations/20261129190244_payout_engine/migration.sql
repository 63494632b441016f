-- AlterTable
ALTER TABLE "balance" ADD COLUMN     "app_name" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "app_version" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "name" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "parked_msat" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "position" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "sender_name" TEXT NOT NULL DEFAULT '';

-- AlterTable
ALTER TABLE "keysend" ALTER COLUMN "error_code" SET DATA TYPE TEXT;

-- AlterTable
ALTER TABLE "payout" ADD COLUMN     "heartbeat_at" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "recipient" ALTER COLUMN "last_error_code" SET DATA TYPE TEXT;

-- CreateTable
CREATE TABLE "episode" (
    "feed_guid" TEXT NOT NULL,
    "item_guid" TEXT NOT NULL,
    "feed_title" TEXT NOT NULL DEFAULT '',
    "item_title" TEXT NOT NULL DEFAULT '',
    "feed_url" TEXT NOT NULL DEFAULT '',
    "feed_id" BIGINT,
    "item_id" BIGINT,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "episode_pkey" PRIMARY KEY ("feed_guid","item_guid")
);

-- Existing balances and episodes take their metadata from what was accrued before this migration.
UPDATE "balance" b SET "name" = r."name" FROM "recipient" r WHERE r."id" = b."recipient_id";
INSERT INTO "episode" ("feed_guid", "item_guid", "feed_title", "item_title", "feed_url", "feed_id", "item_id")
SELECT DISTINCT ON (payload->>'feedGuid', payload->>'itemGuid')
       payload->>'feedGuid', payload->>'itemGuid', COALESCE(payload->>'feedTitle', ''), COALESCE(payload->>'itemTitle', ''),
       COALESCE(payload->>'feedUrl', ''), (payload->>'feedId')::bigint, (payload->>'itemId')::bigint
FROM "listening_event" WHERE "applied_at" IS NOT NULL
ORDER BY payload->>'feedGuid', payload->>'itemGuid', "id" DESC;
-- A parked recipient's owed money is parked money.
UPDATE "balance" b SET "parked_msat" = b."owed_msat", "owed_msat" = 0 FROM "recipient" r WHERE r."id" = b."recipient_id" AND r."parked";

-- The ledger invariant, now with parked money: every msat accrued is owed, in flight, parked or paid.
ALTER TABLE "balance" DROP CONSTRAINT "balance_amounts_check";
ALTER TABLE "balance" ADD CONSTRAINT "balance_amounts_check" CHECK (
  "owed_msat" >= 0 AND "in_flight_msat" >= 0 AND "paid_msat" >= 0 AND "parked_msat" >= 0
  AND "accrued_msat" = "owed_msat" + "in_flight_msat" + "parked_msat" + "paid_msat"
);
ALTER TABLE "payout" ADD CONSTRAINT "payout_status_check"
  CHECK ("status" IN ('queued', 'running', 'completed', 'partial', 'failed', 'interrupted', 'skipped'));
