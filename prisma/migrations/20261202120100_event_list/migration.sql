-- GET /v1/events lists one app's events newest first (by id): all of them, of one feed or episode (fields of the
-- stored payload, indexed as expressions), awaiting accumulation or set aside. Every index starts with app_id, so
-- an app's list reads only that app's rows, whatever other apps hold (one filtered on the payload alone would walk
-- every app's rows under another app's key: slow, and a timing oracle on their data). The awaiting and set-aside
-- indexes are partial (few rows): the set-aside one also serves the splitstream_set_aside_events gauge and the
-- summary counts, and the worker's sweeps and the lag gauge keep the (applied_at, id) index.
CREATE INDEX "listening_event_app_id_id_idx" ON "listening_event" ("app_id", "id");
CREATE INDEX "listening_event_app_feed_guid_id_idx" ON "listening_event" ("app_id", (payload->>'feedGuid'), "id");
CREATE INDEX "listening_event_app_item_guid_id_idx" ON "listening_event" ("app_id", (payload->>'itemGuid'), "id");
CREATE INDEX "listening_event_awaiting_idx" ON "listening_event" ("app_id", "id") WHERE "applied_at" IS NULL AND "apply_error" IS NULL;
CREATE INDEX "listening_event_set_aside_idx" ON "listening_event" ("app_id", "id") WHERE "apply_error" IS NOT NULL;
