-- What each balance's listening accrued per UTC day (the day its events were received), keyed by recipient first:
-- a statement for a period reads one range of its recipient's days instead of every allocation. The worker writes
-- them in the statement that writes the allocations. The key carries the amount (INCLUDE): a period's days are read
-- from the index alone, not from heap pages scattered over the days they were written on.
CREATE TABLE "listening_day" (
    "recipient_id" BIGINT NOT NULL,
    "day" DATE NOT NULL,
    "balance_id" BIGINT NOT NULL,
    "listened_msat" BIGINT NOT NULL,
    CONSTRAINT "listening_day_pkey" PRIMARY KEY ("recipient_id", "day", "balance_id") INCLUDE ("listened_msat")
);

ALTER TABLE "listening_day" ADD CONSTRAINT "listening_day_balance_id_fkey" FOREIGN KEY ("balance_id") REFERENCES "balance"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- The days from the allocations themselves: for this migration, and to repair days the ledger check finds off (run
-- it with the workers stopped: it replaces every row). Function bodies are E-strings whose semicolons are written
-- \073: the migration engine splits scripts at every semicolon.
CREATE FUNCTION listening_day_rebuild() RETURNS void LANGUAGE sql AS E'
  DELETE FROM listening_day\073
  INSERT INTO listening_day (recipient_id, day, balance_id, listened_msat)
  SELECT b.recipient_id, le.received_at::date, a.balance_id, SUM(a.amount_msat)
  FROM allocation a JOIN listening_event le ON le.id = a.event_id JOIN balance b ON b.id = a.balance_id
  GROUP BY b.recipient_id, le.received_at::date, a.balance_id\073
';
SELECT listening_day_rebuild();
