-- A payment made to a development simulator (WALLET_BACKEND alby-sim or nwc-sim): no real sats moved.
ALTER TABLE "payment" ADD COLUMN "simulated" BOOLEAN NOT NULL DEFAULT false;
