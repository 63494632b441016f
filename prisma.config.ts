// Read by the Prisma CLI only (generate here; `prisma migrate deploy` on machines that can download its engine).
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  // The app's own default applies when DATABASE_URL is unset (libs/config).
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/splitstream' },
});
