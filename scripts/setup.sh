#!/usr/bin/env bash
# Shared first half of `npm start`, `npm run bench` and `npm test`: dependencies, services, Prisma client, migrations,
# build. Each of install, generate and build is skipped when its inputs did not change since it last succeeded
# (scripts/prepare.mjs). With --test, migrations go to the test database only (jest's global setup applies them
# there) and the build is left to `npm test`, which always runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
node scripts/check-node.mjs
node scripts/prepare.mjs install
# The dashboard test drives Debian's Chromium (no browser download: playwright-core is given its path).
if [ "${1:-}" = "--test" ] && [ -z "${CHROMIUM_PATH:-}" ] && [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian's chromium for the dashboard test"
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi
npx tsx scripts/ensure-services.ts
node scripts/prepare.mjs generate
if [ "${1:-}" != "--test" ]; then
  npm run --silent db:deploy
  node scripts/prepare.mjs build
fi
