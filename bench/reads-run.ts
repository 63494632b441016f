// Runs the reads section alone (`npx tsx bench/reads-run.ts`) until the bench frame calls it with the others.
import { randomUUID } from 'node:crypto';
import { loadConfig } from '@splitstream/config';
import { readsSection } from './reads.js';

const config = loadConfig();
const database = Object.assign(new URL(config.DATABASE_URL), { pathname: `${new URL(config.DATABASE_URL).pathname}_bench` }).toString();
const rows = await readsSection({
  databaseUrl: database,
  env: { REDIS_URL: config.REDIS_URL, QUEUE_PREFIX: `ssreads-${randomUUID().slice(0, 8)}`, LOG_LEVEL: 'warn', METRICS_PORT: '0', WORKER_METRICS_PORT: '0' },
});
console.log('| what | splitstream | anchor | ratio | target | met |\n| --- | --- | --- | --- | --- | --- |');
for (const r of rows)
  console.log(
    `| ${r.what} | ${r.figure} | ${r.anchor} | ${r.ratio === null ? '-' : r.ratio.toFixed(2)} | ${r.target} | ${r.met === null ? '-' : r.met ? 'yes' : 'NO'} |`,
  );
process.exit(0);
