-- What an address resolution, a failed one and a domain breaker were learned under: a fingerprint of the wallet
-- rail and the Lightning-address host map (see resolutionFingerprint). Rows of another fingerprint are stale and
-- dropped before the next resolution or run, so a switch of rail or host map resolves again against the new
-- servers. Rows from before this migration have none: they are resolved again once.
ALTER TABLE "lnaddress_route" ADD COLUMN "fingerprint" TEXT NOT NULL DEFAULT '';
ALTER TABLE "lnaddress_failure" ADD COLUMN "fingerprint" TEXT NOT NULL DEFAULT '';
ALTER TABLE "lnaddress_domain" ADD COLUMN "fingerprint" TEXT NOT NULL DEFAULT '';
