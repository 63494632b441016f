-- Resolution is a worker job of its own: a circuit breaker per Lightning-address domain (consecutive failures to
-- answer, and open_until, before which no call goes to the domain), and the last failed resolution of each address
-- (a row only while its last attempt failed), for the recipient views.
CREATE TABLE "lnaddress_domain" (
    "domain" TEXT NOT NULL,
    "consecutive_failures" INTEGER NOT NULL DEFAULT 0,
    "open_until" TIMESTAMP(3),
    "last_error_code" TEXT,
    "last_error_message" TEXT,
    "last_error_detail" TEXT,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "lnaddress_domain_pkey" PRIMARY KEY ("domain")
);

CREATE TABLE "lnaddress_failure" (
    "address" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    "detail" TEXT NOT NULL,
    "failed_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "lnaddress_failure_pkey" PRIMARY KEY ("address")
);
