# One image for every splitstream process; docker-compose.yml picks the command.
# Stage 1 builds with every dependency; the runtime stage gets the build and production dependencies only.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# `npm install`, not `npm ci`: see scripts/prepare.mjs (the lock file lists only the Linux native optional packages).
RUN npm install --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json prisma.config.ts ./
COPY prisma ./prisma
COPY scripts ./scripts
COPY libs ./libs
COPY apps ./apps
RUN npm run db:generate && npm run build

# Migrations run from the build stage (compose's `migrate` service, as the database owner): they need the
# TypeScript migration script and its engine, which the runtime image does not carry.
FROM build AS migrate
CMD ["npm", "run", "db:deploy"]

FROM node:24-bookworm-slim AS runtime
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# production: outbound HTTP to public addresses over https only, no simulator, no host map.
ENV API_HOST=0.0.0.0 WORKER_HOST=0.0.0.0 NODE_ENV=production
USER node
CMD ["node", "dist/apps/api/src/main.js"]
