#!/bin/sh
# Run once by the postgres image when its data directory is new (docker-entrypoint-initdb.d).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v app_role=splitstream_app -v app_password="$APP_DB_PASSWORD" -v owner="$POSTGRES_USER" \
  -f /docker-entrypoint-initdb.d/app-role.sql.in
