// Operator commands: `npm run cli -- <command>`.
//   ledger check   verify the ledger invariant against the database (exit 1 when it does not hold)
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { loadConfigOrExit } from '@splitstream/config';
import { invariantReportJson, LedgerQueries } from '@splitstream/ledger';
import { CliModule } from './cli.module.js';

const USAGE = 'usage: npm run cli -- ledger check';

const config = loadConfigOrExit();
const [group, command] = process.argv.slice(2);
if (group !== 'ledger' || command !== 'check') {
  console.error(USAGE);
  process.exit(2);
}
const app = await NestFactory.createApplicationContext(CliModule.register(config), { logger: ['error'] });
const report = await app.get(LedgerQueries).checkInvariant();
await app.close();
console.log(JSON.stringify(invariantReportJson(report), null, 2));
process.exit(report.ok ? 0 : 1);
