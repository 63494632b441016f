-- AlterTable
ALTER TABLE "listening_event" ADD COLUMN     "resolve_after" TIMESTAMP(3),
ADD COLUMN     "resolve_error" TEXT,
ADD COLUMN     "resolved_value" JSONB,
ADD COLUMN     "value_source" JSONB;

-- CreateTable
CREATE TABLE "feed_source" (
    "key" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "etag" TEXT,
    "last_modified" TEXT,
    "content_hash" TEXT,
    "document" JSONB,
    "fetched_at" TIMESTAMP(3),
    "checked_at" TIMESTAMP(3),
    "failures" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "retry_at" TIMESTAMP(3),

    CONSTRAINT "feed_source_pkey" PRIMARY KEY ("key")
);
