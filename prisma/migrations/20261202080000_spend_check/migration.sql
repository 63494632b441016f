-- Spend caps are charged in the statement that stores the events: this check raises SQLSTATE SSCAP when a
-- counter would pass its cap, so the whole statement (the events and every counter) rolls back.
-- The message carries the period, the new total, the charge and the cap, for the api to answer with.
-- The body is an E-string whose semicolons are written \073: the migration engine splits scripts at every semicolon.
CREATE FUNCTION splitstream_check_spend(p_period text, p_total bigint, p_charged bigint, p_cap bigint) RETURNS boolean
LANGUAGE plpgsql AS E'
BEGIN
  IF p_total > p_cap THEN
    RAISE EXCEPTION ''SSCAP % % % %'', p_period, p_total, p_charged, p_cap USING ERRCODE = ''SSCAP''\073
  END IF\073
  RETURN true\073
END
';
