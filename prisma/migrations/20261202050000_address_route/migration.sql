-- How a Lightning Address is paid is its route (resolving an address gives its route), not a "resolution":
-- that word is kept for nothing, so it cannot be confused with a verdict on an unknown payment.
ALTER TABLE "lnaddress_resolution" RENAME TO "lnaddress_route";
ALTER TABLE "lnaddress_route" RENAME CONSTRAINT "lnaddress_resolution_pkey" TO "lnaddress_route_pkey";
