#!/usr/bin/env bash
# Shared first half of `npm start` and `npm test`: dependencies, services, Prisma client, migrations.
# With --test, migrations go to the test database only (jest's global setup applies them there).
set -euo pipefail
cd "$(dirname "$0")/.."
node scripts/check-node.mjs

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing dependencies"
  # Not `npm ci`: the registry these machines reach serves only the Linux builds of native optional packages,
  # so the lock file cannot list the others and `npm ci` refuses it. `npm install` keeps the lock as it is.
  npm install --no-audit --no-fund
fi
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
npm run --silent db:generate
if [ "${1:-}" != "--test" ]; then
  npm run --silent db:deploy
fi
