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

-- Every app with balances for a recipient starts from the state the recipient had. The shared name may have
-- been written by any app (another app may have planted it): only the app whose applied event for the recipient
-- came last, the one that wrote it, keeps it, and every other app takes the name on its own latest balance.
WITH "name_writer" AS (
    SELECT DISTINCT ON (b."recipient_id") b."recipient_id", e."app_id"
    FROM "allocation" a JOIN "listening_event" e ON e."id" = a."event_id" JOIN "balance" b ON b."id" = a."balance_id"
    WHERE e."applied_at" IS NOT NULL
    ORDER BY b."recipient_id", e."applied_at" DESC, e."id" DESC
), "own_name" AS (
    SELECT DISTINCT ON ("recipient_id", "app_id") "recipient_id", "app_id", "name"
    FROM "balance" ORDER BY "recipient_id", "app_id", "updated_at" DESC, "id" DESC
)
INSERT INTO "app_recipient" ("recipient_id", "app_id", "name", "consecutive_failures", "next_attempt_at", "parked", "parked_at",
                             "last_error_code", "last_error_message", "last_error_detail")
SELECT r."id", o."app_id", CASE WHEN w."app_id" = o."app_id" THEN r."name" ELSE o."name" END,
       r."consecutive_failures", r."next_attempt_at", r."parked", r."parked_at", r."last_error_code", r."last_error_message", r."last_error_detail"
FROM "recipient" r JOIN "own_name" o ON o."recipient_id" = r."id" LEFT JOIN "name_writer" w ON w."recipient_id" = r."id";

ALTER TABLE "balance" ADD CONSTRAINT "balance_recipient_id_app_id_fkey" FOREIGN KEY ("recipient_id", "app_id") REFERENCES "app_recipient"("recipient_id", "app_id") ON DELETE RESTRICT ON UPDATE CASCADE;

ALTER TABLE "recipient" DROP COLUMN "name",
    DROP COLUMN "consecutive_failures",
    DROP COLUMN "next_attempt_at",
    DROP COLUMN "parked",
    DROP COLUMN "parked_at",
    DROP COLUMN "last_error_code",
    DROP COLUMN "last_error_message",
    DROP COLUMN "last_error_detail";

-- Episodes per app. The shared titles, url and ids are those of the last applied event for the episode, whichever
-- app sent it (another app may have planted them): only that app keeps them, and every other app with balances for
-- the episode gets the guids alone, filled in by its own next event.
ALTER TABLE "episode" ADD COLUMN "app_id" TEXT;
ALTER TABLE "episode" DROP CONSTRAINT "episode_pkey";
WITH "episode_writer" AS (
    SELECT DISTINCT ON ("payload"->>'feedGuid', "payload"->>'itemGuid')
           "payload"->>'feedGuid' AS "feed_guid", "payload"->>'itemGuid' AS "item_guid", "app_id"
    FROM "listening_event" WHERE "applied_at" IS NOT NULL
    ORDER BY "payload"->>'feedGuid', "payload"->>'itemGuid', "applied_at" DESC, "id" DESC
)
INSERT INTO "episode" ("app_id", "feed_guid", "item_guid", "feed_title", "item_title", "feed_url", "feed_id", "item_id", "updated_at")
SELECT b."app_id", e."feed_guid", e."item_guid",
       CASE WHEN w."app_id" = b."app_id" THEN e."feed_title" ELSE '' END,
       CASE WHEN w."app_id" = b."app_id" THEN e."item_title" ELSE '' END,
       CASE WHEN w."app_id" = b."app_id" THEN e."feed_url" ELSE '' END,
       CASE WHEN w."app_id" = b."app_id" THEN e."feed_id" END,
       CASE WHEN w."app_id" = b."app_id" THEN e."item_id" END,
       e."updated_at"
FROM "episode" e JOIN (SELECT DISTINCT "app_id", "feed_guid", "item_guid" FROM "balance") b ON b."feed_guid" = e."feed_guid" AND b."item_guid" = e."item_guid"
LEFT JOIN "episode_writer" w ON w."feed_guid" = e."feed_guid" AND w."item_guid" = e."item_guid"
WHERE e."app_id" IS NULL;
DELETE FROM "episode" WHERE "app_id" IS NULL;
ALTER TABLE "episode" ALTER COLUMN "app_id" SET NOT NULL;
ALTER TABLE "episode" ADD CONSTRAINT "episode_pkey" PRIMARY KEY ("app_id", "feed_guid", "item_guid");
CREATE INDEX "episode_feed_guid_idx" ON "episode"("feed_guid");

-- The name the payments of an app carry as bLIP-10 app_name (null: its id), unique in any letter case, so no app
-- can be given the name of another.
ALTER TABLE "app" ADD COLUMN "name" TEXT;
CREATE UNIQUE INDEX "app_name_key" ON "app"("name");
CREATE UNIQUE INDEX "app_name_lower_key" ON "app"(lower("name"));

-- One payout run queued or running at a time (a superseded one, replaced after its job was lost or its worker
-- stopped beating, no longer counts): a request for a run while one is active gets that run.
ALTER TABLE "payout" ADD COLUMN "superseded" BOOLEAN NOT NULL DEFAULT false;
UPDATE "payout" SET "superseded" = true
WHERE "status" IN ('queued', 'running') AND "id" <> (SELECT MAX("id") FROM "payout" WHERE "status" IN ('queued', 'running'));
CREATE UNIQUE INDEX "payout_one_active" ON "payout" ((true)) WHERE "status" IN ('queued', 'running') AND NOT "superseded";
