-- Running totals per app for GET /v1/summary: events accepted, the money of the balances and the fees of succeeded
-- payments, so the summary reads a few rows instead of summing millions. Kept by statement-level triggers in the
-- same transaction as the rows they sum, whatever code writes those rows, so they are exact. Each database
-- backend adds to its own row (slot = its process id): concurrent transactions never wait on, or deadlock over,
-- a tally row. A reader sums the rows of an app. The ledger check compares them with the real sums.
CREATE TABLE "ledger_tally" (
    "app_id" TEXT NOT NULL,
    "slot" INTEGER NOT NULL,
    "events" BIGINT NOT NULL DEFAULT 0,
    "accrued_msat" BIGINT NOT NULL DEFAULT 0,
    "owed_msat" BIGINT NOT NULL DEFAULT 0,
    "in_flight_msat" BIGINT NOT NULL DEFAULT 0,
    "parked_msat" BIGINT NOT NULL DEFAULT 0,
    "paid_msat" BIGINT NOT NULL DEFAULT 0,
    "fees_sats" BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT "ledger_tally_pkey" PRIMARY KEY ("app_id", "slot")
);

-- Function bodies are E-strings whose semicolons are written \073: the migration engine splits scripts at every
-- semicolon.
-- Adds per-app deltas (rows of the ledger_tally shape, slot ignored) to the rows of this backend, in app order.
CREATE FUNCTION ledger_tally_add(deltas ledger_tally[]) RETURNS void LANGUAGE sql AS E'
  INSERT INTO ledger_tally AS t (app_id, slot, events, accrued_msat, owed_msat, in_flight_msat, parked_msat, paid_msat, fees_sats)
  SELECT d.app_id, pg_backend_pid(), SUM(d.events), SUM(d.accrued_msat), SUM(d.owed_msat), SUM(d.in_flight_msat), SUM(d.parked_msat),
         SUM(d.paid_msat), SUM(d.fees_sats)
  FROM unnest(deltas) d GROUP BY d.app_id
  HAVING SUM(d.events) <> 0 OR SUM(d.accrued_msat) <> 0 OR SUM(d.owed_msat) <> 0 OR SUM(d.in_flight_msat) <> 0
      OR SUM(d.parked_msat) <> 0 OR SUM(d.paid_msat) <> 0 OR SUM(d.fees_sats) <> 0
  ORDER BY d.app_id
  ON CONFLICT (app_id, slot) DO UPDATE SET events = t.events + EXCLUDED.events, accrued_msat = t.accrued_msat + EXCLUDED.accrued_msat,
    owed_msat = t.owed_msat + EXCLUDED.owed_msat, in_flight_msat = t.in_flight_msat + EXCLUDED.in_flight_msat,
    parked_msat = t.parked_msat + EXCLUDED.parked_msat, paid_msat = t.paid_msat + EXCLUDED.paid_msat, fees_sats = t.fees_sats + EXCLUDED.fees_sats
';

CREATE FUNCTION ledger_tally_events() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  IF TG_OP = ''INSERT'' THEN
    PERFORM ledger_tally_add(ARRAY(SELECT ROW(app_id, 0, COUNT(*), 0, 0, 0, 0, 0, 0)::ledger_tally FROM new_rows GROUP BY app_id))\073
  ELSE
    PERFORM ledger_tally_add(ARRAY(SELECT ROW(app_id, 0, -COUNT(*), 0, 0, 0, 0, 0, 0)::ledger_tally FROM old_rows GROUP BY app_id))\073
  END IF\073
  RETURN NULL\073
END ';

-- Balances: what the statement added (new rows) less what it replaced or removed (old rows).
CREATE FUNCTION ledger_tally_balances() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  IF TG_OP IN (''INSERT'', ''UPDATE'') THEN
    PERFORM ledger_tally_add(ARRAY(
      SELECT ROW(app_id, 0, 0, accrued_msat, owed_msat, in_flight_msat, parked_msat, paid_msat, 0)::ledger_tally FROM new_rows))\073
  END IF\073
  IF TG_OP IN (''UPDATE'', ''DELETE'') THEN
    PERFORM ledger_tally_add(ARRAY(
      SELECT ROW(app_id, 0, 0, -accrued_msat, -owed_msat, -in_flight_msat, -parked_msat, -paid_msat, 0)::ledger_tally FROM old_rows))\073
  END IF\073
  RETURN NULL\073
END ';

-- Fees of succeeded payments, on the app of the balance of the payment.
CREATE FUNCTION ledger_tally_payments() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  IF TG_OP IN (''INSERT'', ''UPDATE'') THEN
    PERFORM ledger_tally_add(ARRAY(
      SELECT ROW(b.app_id, 0, 0, 0, 0, 0, 0, 0, p.fee_sats)::ledger_tally FROM new_rows p JOIN balance b ON b.id = p.balance_id
      WHERE p.status = ''succeeded'' AND p.fee_sats <> 0))\073
  END IF\073
  IF TG_OP IN (''UPDATE'', ''DELETE'') THEN
    PERFORM ledger_tally_add(ARRAY(
      SELECT ROW(b.app_id, 0, 0, 0, 0, 0, 0, 0, -p.fee_sats)::ledger_tally FROM old_rows p JOIN balance b ON b.id = p.balance_id
      WHERE p.status = ''succeeded'' AND p.fee_sats <> 0))\073
  END IF\073
  RETURN NULL\073
END ';

CREATE TRIGGER "ledger_tally_events_insert" AFTER INSERT ON "listening_event" REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_tally_events();
CREATE TRIGGER "ledger_tally_events_delete" AFTER DELETE ON "listening_event" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_tally_events();
CREATE TRIGGER "ledger_tally_balances_insert" AFTER INSERT ON "balance" REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_tally_balances();
CREATE TRIGGER "ledger_tally_balances_update" AFTER UPDATE ON "balance" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_tally_balances();
CREATE TRIGGER "ledger_tally_balances_delete" AFTER DELETE ON "balance" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_tally_balances();
CREATE TRIGGER "ledger_tally_payments_insert" AFTER INSERT ON "payment" REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_tally_payments();
CREATE TRIGGER "ledger_tally_payments_update" AFTER UPDATE ON "payment" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_tally_payments();
CREATE TRIGGER "ledger_tally_payments_delete" AFTER DELETE ON "payment" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_tally_payments();

-- The tallies from the rows themselves, in slot 0: for this migration, and after a bulk load that bypassed the
-- triggers (the seed of the bench). Replaces every row, so run it where nothing else writes.
CREATE FUNCTION ledger_tally_rebuild() RETURNS void LANGUAGE sql AS E'
  DELETE FROM ledger_tally\073
  SELECT ledger_tally_add(ARRAY(
    SELECT ROW(app_id, 0, COUNT(*), 0, 0, 0, 0, 0, 0)::ledger_tally FROM listening_event GROUP BY app_id
    UNION ALL
    SELECT ROW(app_id, 0, 0, SUM(accrued_msat), SUM(owed_msat), SUM(in_flight_msat), SUM(parked_msat), SUM(paid_msat), 0)::ledger_tally
    FROM balance GROUP BY app_id
    UNION ALL
    SELECT ROW(b.app_id, 0, 0, 0, 0, 0, 0, 0, SUM(p.fee_sats))::ledger_tally FROM payment p JOIN balance b ON b.id = p.balance_id
    WHERE p.status = ''succeeded'' AND p.fee_sats <> 0 GROUP BY b.app_id))\073
  UPDATE ledger_tally SET slot = 0\073
';
SELECT ledger_tally_rebuild();
