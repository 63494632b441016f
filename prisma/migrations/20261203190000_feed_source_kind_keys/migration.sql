-- feed_source rows are now keyed by what a URL is read as (feed or Podcast Index answer) and the URL, as JSON
-- arrays (libs/feeds sourceKeyOf, itemKeyOf). Rows keyed by the URL alone are a cache and backoff only: dropped,
-- every source is read again when next needed.
DELETE FROM "feed_source" WHERE "key" NOT LIKE '[%';

-- last_error is what apps read of a failure, last_error_detail the whole of it (transport errors, addresses): admins.
ALTER TABLE "feed_source" ADD COLUMN "last_error_detail" TEXT;
