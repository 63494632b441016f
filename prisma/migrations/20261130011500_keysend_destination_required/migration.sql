-- Rows from before destinations were recorded paid their recipient's address.
UPDATE "keysend" k SET "destination" = r."address" FROM "recipient" r WHERE r."id" = k."recipient_id" AND k."destination" IS NULL;

-- AlterTable
ALTER TABLE "keysend" ALTER COLUMN "destination" SET NOT NULL;
