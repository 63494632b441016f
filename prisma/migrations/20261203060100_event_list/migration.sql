-- GET /v1/events lists events newest first (by id): of one app, of one feed or episode (fields of the stored
-- payload, indexed as expressions), or set aside. The set-aside index is partial (a handful of rows), and also
-- serves the splitstream_set_aside_events gauge and the summary count at every scrape. Awaiting events use the
-- existing (applied_at, id) index.
CREATE INDEX "listening_event_app_id_id_idx" ON "listening_event" ("app_id", "id");
CREATE INDEX "listening_event_feed_guid_id_idx" ON "listening_event" ((payload->>'feedGuid'), "id");
CREATE INDEX "listening_event_item_guid_id_idx" ON "listening_event" ((payload->>'itemGuid'), "id");
CREATE INDEX "listening_event_set_aside_idx" ON "listening_event" ("id") WHERE "apply_error" IS NOT NULL;
