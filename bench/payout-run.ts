// `npx tsx bench/payout-run.ts`: the payout section alone (after `npm run build`), until the bench frame runs it.
import { spawnSync } from 'node:child_process';
import { loadConfig, parseSimulatorConfig } from '@splitstream/config';
import { payoutSection } from './payout.js';
import { benchDatabaseUrl, benchPorts, serviceEnv } from './support.js';

const config = loadConfig();
const databaseUrl = benchDatabaseUrl(config.DATABASE_URL);
const simToken = parseSimulatorConfig(process.env).SIM_ACCESS_TOKEN;
const env = serviceEnv(databaseUrl, config.REDIS_URL, simToken);
const createKey = (app: string) => {
  const created = spawnSync('node', ['dist/apps/cli/src/main.js', 'keys', 'create', '--name', app, '--scopes', 'payouts:read,payouts:write,admin'], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  if (created.status !== 0) throw new Error(created.stderr);
  return created.stdout.trim().split('\n').at(-1)!;
};

const rows = await payoutSection({ databaseUrl, env, ports: benchPorts(), simToken, createKey });
console.log('| what | splitstream | anchor | ratio | target | met |\n| --- | --- | --- | --- | --- | --- |');
for (const r of rows)
  console.log(`| ${r.what} | ${r.figure} | ${r.anchor} | ${r.ratio?.toFixed(2) ?? '-'} | ${r.target} | ${r.met === null ? '-' : r.met ? 'yes' : 'no'} |`);
process.exit(0);
