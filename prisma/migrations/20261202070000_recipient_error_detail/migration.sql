-- What went wrong last, in full (a transport error, a server's answer): shown to admins only. Apps read the coded
-- reason in last_error_code and last_error_message.
ALTER TABLE "recipient" ADD COLUMN "last_error_detail" TEXT;
