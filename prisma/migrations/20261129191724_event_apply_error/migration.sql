-- AlterTable
ALTER TABLE "listening_event" ADD COLUMN     "apply_error" TEXT;
