# One image for every splitstream process; docker-compose.yml picks the command.
FROM node:24-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
# `npm install`, not `npm ci`: see scripts/setup.sh (the lock file lists only the Linux native optional packages).
RUN npm install --no-audit --no-fund
COPY . .
RUN npm run db:generate && npm run build
# production: Lightning addresses resolved over https only; LNADDRESS_HOST_MAP refused.
ENV API_HOST=0.0.0.0 WORKER_HOST=0.0.0.0 NODE_ENV=production
CMD ["node", "dist/apps/api/src/main.js"]
