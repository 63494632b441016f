-- Tenancy: a recipient's display name and failure state per (recipient, app), episode metadata per app, the
-- app's registered name for bLIP-10 app_name, and at most one payout run queued or running.

CREATE TABLE "app_recipient" (
    "recipient_id" BIGINT NOT NULL,
    "app_id" TEXT NOT NULL,
    "name" TEXT NOT NULL DEFAULT '',
    "consecutive_failures" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMP(3),
    "parked" BOOLEAN NOT NULL DEFAULT false,
    "parked_at" TIMESTAMP(3),
    "last_error_code" TEXT,
    "last_error_message" TEXT,
    "last_error_detail" TEXT,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "app_recipient_pkey" PRIMARY KEY ("recipient_id","app_id")
);
CREATE INDEX "app_recipient_app_id_idx" ON "app_recipient"("app_id");
ALTER TABLE "app_recipient" ADD CONSTRAINT "app_recipient_recipient_id_fkey" FOREIGN KEY ("recipient_id") REFERENCES "recipient"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Every app with balances for a recipient starts from the state and name the recipient had.
INSERT INTO "app_recipient" ("recipient_id", "app_id", "name", "consecutive_failures", "next_attempt_at", "parked", "parked_at",
                             "last_error_code", "last_error_message", "last_error_detail")
SELECT r."id", b."app_id", r."name", r."consecutive_failures", r."next_attempt_at", r."parked", r."parked_at",
       r."last_error_code", r."last_error_message", r."last_error_detail"
FROM "recipient" r JOIN (SELECT DISTINCT "recipient_id", "app_id" FROM "balance") b ON b."recipient_id" = r."id";

ALTER TABLE "balance" ADD CONSTRAINT "balance_recipient_id_app_id_fkey" FOREIGN KEY ("recipient_id", "app_id") REFERENCES "app_recipient"("recipient_id", "app_id") ON DELETE RESTRICT ON UPDATE CASCADE;

ALTER TABLE "recipient" DROP COLUMN "name",
    DROP COLUMN "consecutive_failures",
    DROP COLUMN "next_attempt_at",
    DROP COLUMN "parked",
    DROP COLUMN "parked_at",
    DROP COLUMN "last_error_code",
    DROP COLUMN "last_error_message",
    DROP COLUMN "last_error_detail";

-- Episodes per app: each app with balances for an episode keeps a copy of what was stored for it.
ALTER TABLE "episode" ADD COLUMN "app_id" TEXT;
ALTER TABLE "episode" DROP CONSTRAINT "episode_pkey";
INSERT INTO "episode" ("app_id", "feed_guid", "item_guid", "feed_title", "item_title", "feed_url", "feed_id", "item_id", "updated_at")
SELECT b."app_id", e."feed_guid", e."item_guid", e."feed_title", e."item_title", e."feed_url", e."feed_id", e."item_id", e."updated_at"
FROM "episode" e JOIN (SELECT DISTINCT "app_id", "feed_guid", "item_guid" FROM "balance") b ON b."feed_guid" = e."feed_guid" AND b."item_guid" = e."item_guid"
WHERE e."app_id" IS NULL;
DELETE FROM "episode" WHERE "app_id" IS NULL;
ALTER TABLE "episode" ALTER COLUMN "app_id" SET NOT NULL;
ALTER TABLE "episode" ADD CONSTRAINT "episode_pkey" PRIMARY KEY ("app_id", "feed_guid", "item_guid");
CREATE INDEX "episode_feed_guid_idx" ON "episode"("feed_guid");

-- The name an app's payments carry as bLIP-10 app_name (null: its id), unique so no app can be given another's.
ALTER TABLE "app" ADD COLUMN "name" TEXT;
CREATE UNIQUE INDEX "app_name_key" ON "app"("name");

-- One payout run queued or running at a time (a superseded one, replaced after its job was lost or its worker
-- stopped beating, no longer counts): a request for a run while one is active gets that run.
ALTER TABLE "payout" ADD COLUMN "superseded" BOOLEAN NOT NULL DEFAULT false;
UPDATE "payout" SET "superseded" = true
WHERE "status" IN ('queued', 'running') AND "id" <> (SELECT MAX("id") FROM "payout" WHERE "status" IN ('queued', 'running'));
CREATE UNIQUE INDEX "payout_one_active" ON "payout" ((true)) WHERE "status" IN ('queued', 'running') AND NOT "superseded";
