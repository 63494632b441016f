-- Secrets of this installation, shared by every api instance: cursor_key seals list cursors (nextBefore), so a
-- cursor shows no database id (ids come from sequences every app shares). The first api to boot stores 32 random
-- bytes, and every instance reads the same row (one row: id 1).
CREATE TABLE "installation_secret" (
    "id" SMALLINT NOT NULL DEFAULT 1,
    "cursor_key" BYTEA NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "installation_secret_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "installation_secret_one_row" CHECK ("id" = 1),
    CONSTRAINT "installation_secret_cursor_key_length" CHECK (octet_length("cursor_key") = 32)
);
