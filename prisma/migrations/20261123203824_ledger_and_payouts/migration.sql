-- CreateTable
CREATE TABLE "recipient" (
    "id" BIGSERIAL NOT NULL,
    "address" TEXT NOT NULL,
    "custom_key" TEXT NOT NULL DEFAULT '',
    "custom_value" TEXT NOT NULL DEFAULT '',
    "name" TEXT NOT NULL DEFAULT '',
    "consecutive_failures" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMP(3),
    "parked" BOOLEAN NOT NULL DEFAULT false,
    "parked_at" TIMESTAMP(3),
    "last_error_code" INTEGER,
    "last_error_message" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "recipient_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "balance" (
    "id" BIGSERIAL NOT NULL,
    "recipient_id" BIGINT NOT NULL,
    "feed_guid" TEXT NOT NULL,
    "item_guid" TEXT NOT NULL,
    "remote_feed_guid" TEXT NOT NULL DEFAULT '',
    "remote_item_guid" TEXT NOT NULL DEFAULT '',
    "accrued_msat" BIGINT NOT NULL DEFAULT 0,
    "owed_msat" BIGINT NOT NULL DEFAULT 0,
    "in_flight_msat" BIGINT NOT NULL DEFAULT 0,
    "paid_msat" BIGINT NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "balance_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "allocation" (
    "id" BIGSERIAL NOT NULL,
    "event_id" BIGINT NOT NULL,
    "balance_id" BIGINT NOT NULL,
    "amount_msat" BIGINT NOT NULL,
    "keysend_id" BIGINT,

    CONSTRAINT "allocation_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "payout" (
    "id" BIGSERIAL NOT NULL,
    "tick_key" TEXT,
    "trigger" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "note" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMP(3),
    "finished_at" TIMESTAMP(3),

    CONSTRAINT "payout_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "keysend" (
    "id" BIGSERIAL NOT NULL,
    "payout_id" BIGINT NOT NULL,
    "recipient_id" BIGINT NOT NULL,
    "balance_id" BIGINT NOT NULL,
    "reference" TEXT NOT NULL,
    "amount_sats" INTEGER NOT NULL,
    "attempt" INTEGER NOT NULL,
    "status" TEXT NOT NULL,
    "custom_records" JSONB NOT NULL,
    "fee_sats" INTEGER,
    "payment_hash" TEXT,
    "preimage" TEXT,
    "error_code" INTEGER,
    "error_message" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sent_at" TIMESTAMP(3),
    "finished_at" TIMESTAMP(3),
    "resolved_by" TEXT,
    "resolved_at" TIMESTAMP(3),

    CONSTRAINT "keysend_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "recipient_address_custom_key_custom_value_key" ON "recipient"("address", "custom_key", "custom_value");

-- CreateIndex
CREATE INDEX "balance_owed_msat_idx" ON "balance"("owed_msat");

-- CreateIndex
CREATE UNIQUE INDEX "balance_recipient_id_feed_guid_item_guid_remote_feed_guid_r_key" ON "balance"("recipient_id", "feed_guid", "item_guid", "remote_feed_guid", "remote_item_guid");

-- CreateIndex
CREATE INDEX "allocation_event_id_idx" ON "allocation"("event_id");

-- CreateIndex
CREATE INDEX "allocation_balance_id_keysend_id_idx" ON "allocation"("balance_id", "keysend_id");

-- CreateIndex
CREATE INDEX "allocation_keysend_id_idx" ON "allocation"("keysend_id");

-- CreateIndex
CREATE UNIQUE INDEX "payout_tick_key_key" ON "payout"("tick_key");

-- CreateIndex
CREATE INDEX "payout_created_at_idx" ON "payout"("created_at");

-- CreateIndex
CREATE UNIQUE INDEX "keysend_reference_key" ON "keysend"("reference");

-- CreateIndex
CREATE INDEX "keysend_payout_id_idx" ON "keysend"("payout_id");

-- CreateIndex
CREATE INDEX "keysend_status_idx" ON "keysend"("status");

-- AddForeignKey
ALTER TABLE "balance" ADD CONSTRAINT "balance_recipient_id_fkey" FOREIGN KEY ("recipient_id") REFERENCES "recipient"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "allocation" ADD CONSTRAINT "allocation_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "listening_event"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "allocation" ADD CONSTRAINT "allocation_balance_id_fkey" FOREIGN KEY ("balance_id") REFERENCES "balance"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "allocation" ADD CONSTRAINT "allocation_keysend_id_fkey" FOREIGN KEY ("keysend_id") REFERENCES "keysend"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "keysend" ADD CONSTRAINT "keysend_payout_id_fkey" FOREIGN KEY ("payout_id") REFERENCES "payout"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "keysend" ADD CONSTRAINT "keysend_recipient_id_fkey" FOREIGN KEY ("recipient_id") REFERENCES "recipient"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "keysend" ADD CONSTRAINT "keysend_balance_id_fkey" FOREIGN KEY ("balance_id") REFERENCES "balance"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- The ledger invariant, enforced by the database itself: no negative amounts, and every msat accrued is owed,
-- in flight or paid.
ALTER TABLE "balance" ADD CONSTRAINT "balance_amounts_check" CHECK (
  "owed_msat" >= 0 AND "in_flight_msat" >= 0 AND "paid_msat" >= 0
  AND "accrued_msat" = "owed_msat" + "in_flight_msat" + "paid_msat"
);
ALTER TABLE "keysend" ADD CONSTRAINT "keysend_amount_check" CHECK ("amount_sats" > 0);
ALTER TABLE "keysend" ADD CONSTRAINT "keysend_status_check"
  CHECK ("status" IN ('pending', 'sending', 'succeeded', 'failed', 'unknown', 'cancelled'));
