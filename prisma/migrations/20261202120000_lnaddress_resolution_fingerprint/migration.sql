-- What an address resolution, a failed one and a domain breaker were learned under: a fingerprint of the wallet
-- rail and the Lightning-address host map (see resolutionFingerprint). A process treats rows of another fingerprint
-- as stale (never planned with, resolved again against its own servers, overwritten then) and never deletes them:
-- another process, configured apart, may be paying from them. Rows from before this migration have none: they are
-- resolved again once.
ALTER TABLE "lnaddress_route" ADD COLUMN "fingerprint" TEXT NOT NULL DEFAULT '';
ALTER TABLE "lnaddress_failure" ADD COLUMN "fingerprint" TEXT NOT NULL DEFAULT '';
ALTER TABLE "lnaddress_domain" ADD COLUMN "fingerprint" TEXT NOT NULL DEFAULT '';
