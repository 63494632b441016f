-- Failed resolutions in a row of an address: its next try waits longer after each (doubling, up to a ceiling),
-- so addresses that keep failing never come first in every resolution.
ALTER TABLE "lnaddress_failure" ADD COLUMN "attempts" INTEGER NOT NULL DEFAULT 1;
