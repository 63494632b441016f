-- The worker sweep of boosts never split (their job lost): a partial index, so a tick never scans all boosts.
CREATE INDEX "boost_unapplied" ON "boost"("id") WHERE "applied_at" IS NULL AND "apply_error" IS NULL;
