-- CreateTable
CREATE TABLE "listening_event" (
    "id" BIGSERIAL NOT NULL,
    "app_id" TEXT NOT NULL,
    "event_id" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "amount_msat" BIGINT NOT NULL,
    "received_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "applied_at" TIMESTAMP(3),

    CONSTRAINT "listening_event_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "listening_event_applied_at_id_idx" ON "listening_event"("applied_at", "id");

-- CreateIndex
CREATE UNIQUE INDEX "listening_event_app_id_event_id_key" ON "listening_event"("app_id", "event_id");
