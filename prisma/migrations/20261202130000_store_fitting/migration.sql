-- When a request breaks a spend cap, the api stores the events that fit in one call of this function instead of a
-- statement per event. It locks every counter the events can charge, in period order (the order the batch
-- statement locks them in, so concurrent requests queue without deadlock), then walks the events in request
-- order: an event that fits every counter is inserted and charged, one that does not is returned with the first
-- counter it breaks (period, new total, charge, cap: the values of splitstream_check_spend). An event whose id was
-- stored before (or by a concurrent request) inserts nothing and is returned without a breach: judged as resent.
-- Counter rows created only to be locked and left at 0 are removed again.
-- The body is an E-string whose semicolons are written \073: the migration engine splits scripts at every semicolon.
CREATE FUNCTION splitstream_store_fitting(
  p_app text, p_ids text[], p_payloads text[], p_amounts bigint[], p_listeners text[],
  p_day text, p_day_cap bigint, p_month text, p_month_cap bigint, p_listener_prefix text, p_listener_cap bigint
) RETURNS TABLE (ord integer, id bigint, event_id text, period text, total bigint, charged bigint, cap bigint)
LANGUAGE plpgsql AS E'
#variable_conflict use_column
DECLARE
  v_periods text[]\073
  v_period text\073
  v_cap bigint\073
  v_spent bigint\073
  v_id bigint\073
  v_breach boolean\073
BEGIN
  v_periods := ARRAY(
    SELECT DISTINCT p FROM unnest(ARRAY[p_day, p_month] || CASE WHEN p_listener_cap IS NULL THEN ARRAY[]::text[]
      ELSE ARRAY(SELECT p_listener_prefix || l FROM unnest(p_listeners) AS l WHERE l IS NOT NULL) END) AS p
    ORDER BY p)\073
  INSERT INTO app_spend (app_id, period, msat) SELECT p_app, p, 0 FROM unnest(v_periods) AS p ORDER BY p
    ON CONFLICT (app_id, period) DO UPDATE SET msat = app_spend.msat\073
  FOR i IN 1 .. coalesce(array_length(p_ids, 1), 0) LOOP
    v_breach := false\073
    FOR v_period, v_cap IN
      SELECT c.p, c.cap FROM (VALUES (p_day, p_day_cap), (p_month, p_month_cap),
                                     (p_listener_prefix || p_listeners[i], p_listener_cap)) AS c(p, cap)
      WHERE c.p IS NOT NULL AND c.cap IS NOT NULL ORDER BY c.p
    LOOP
      SELECT s.msat INTO v_spent FROM app_spend s WHERE s.app_id = p_app AND s.period = v_period\073
      IF v_spent + p_amounts[i] > v_cap THEN
        v_breach := true\073
        EXIT\073
      END IF\073
    END LOOP\073
    IF v_breach AND NOT EXISTS (SELECT 1 FROM listening_event l WHERE l.app_id = p_app AND l.event_id = p_ids[i]) THEN
      RETURN QUERY SELECT i, NULL::bigint, p_ids[i], v_period, v_spent + p_amounts[i], p_amounts[i], v_cap\073
      CONTINUE\073
    END IF\073
    v_id := NULL\073
    IF NOT v_breach THEN
      INSERT INTO listening_event (app_id, event_id, payload, amount_msat, listener_id)
      VALUES (p_app, p_ids[i], p_payloads[i]::jsonb, p_amounts[i], p_listeners[i])
      ON CONFLICT (app_id, event_id) DO NOTHING RETURNING listening_event.id INTO v_id\073
    END IF\073
    IF v_id IS NOT NULL THEN
      UPDATE app_spend s SET msat = s.msat + p_amounts[i]
      WHERE s.app_id = p_app AND (s.period IN (p_day, p_month) OR (p_listener_cap IS NOT NULL AND s.period = p_listener_prefix || p_listeners[i]))\073
    END IF\073
    RETURN QUERY SELECT i, v_id, p_ids[i], NULL::text, NULL::bigint, NULL::bigint, NULL::bigint\073
  END LOOP\073
  DELETE FROM app_spend s WHERE s.app_id = p_app AND s.period = ANY(v_periods) AND s.msat = 0\073
END
';
