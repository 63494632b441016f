-- AlterTable
ALTER TABLE "keysend" ADD COLUMN     "destination" TEXT,
ADD COLUMN     "invoice" TEXT,
ADD COLUMN     "method" TEXT NOT NULL DEFAULT 'keysend';

-- CreateTable
CREATE TABLE "lnaddress_resolution" (
    "address" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "pubkey" TEXT,
    "custom_records" JSONB NOT NULL DEFAULT '{}',
    "callback" TEXT,
    "min_sendable_msat" BIGINT,
    "max_sendable_msat" BIGINT,
    "comment_allowed" INTEGER NOT NULL DEFAULT 0,
    "metadata_hash" TEXT,
    "resolved_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "lnaddress_resolution_pkey" PRIMARY KEY ("address")
);
