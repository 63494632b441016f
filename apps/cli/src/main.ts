// Operator commands: `npm run cli -- <command>`.
//   keys create --name <app> --scopes events:write[,payouts:read,...]   prints the new key, once
//   keys list                                                            ids, apps, scopes, revoked or not
//   keys revoke <id>                                                     the key stops working at once
//   apps caps <app> [--day-msat N] [--month-msat N] [--listener-day-msat N]   set spend caps ("none": the service's default; no listener cap)
//   apps show <app>                                                      caps and what the app accepted
//   apps name <app> <name|none>                  the bLIP-10 app_name its payments carry (none: the app id)
//   ledger check                                  verify the ledger invariant (exit 1 when it does not hold)
//   payments reconcile                            look unknown payments up in the wallet's records now (alias: keysends reconcile)
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { NestFactory } from '@nestjs/core';
import { ALL_SCOPES, ApiKeysService, isScope } from '@splitstream/auth';
import { loadConfigOrExit } from '@splitstream/config';
import { AppError } from '@splitstream/errors';
import { invariantReportJson, LedgerQueries } from '@splitstream/ledger';
import { MSAT_DECIMAL } from '@splitstream/money';
import { Reconciliation } from '@splitstream/payouts';
import { type CapsUpdate, TenantsService } from '@splitstream/tenants';
import { CliModule } from './cli.module.js';

const USAGE = `usage: npm run cli -- keys create --name <app> --scopes <${ALL_SCOPES.join('|')}>[,...]
       npm run cli -- keys list
       npm run cli -- keys revoke <id>
       npm run cli -- apps caps <app> [--day-msat <msat|none>] [--month-msat <msat|none>] [--listener-day-msat <msat|none>]
       npm run cli -- apps show <app>
       npm run cli -- apps name <app> <name|none>
       npm run cli -- ledger check
       npm run cli -- payments reconcile`;

const fail = (message: string): never => {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
};

const parseCommandLine = () => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        name: { type: 'string' },
        scopes: { type: 'string' },
        'day-msat': { type: 'string' },
        'month-msat': { type: 'string' },
        'listener-day-msat': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return fail((error as Error).message);
  }
};
const { positionals, values } = parseCommandLine();

// A cap option: a whole number of msat, or "none" to remove the app's own (day and month then fall back to the
// service's defaults; the listener cap is gone); absent leaves the cap as it is.
const capOption = (option: 'day-msat' | 'month-msat' | 'listener-day-msat'): bigint | null | undefined => {
  const value = values[option];
  if (value === undefined) return undefined;
  if (value === 'none') return null;
  if (!MSAT_DECIMAL.test(value)) return fail(`--${option} must be a whole number of msat or "none"`);
  return BigInt(value);
};
const json = (value: unknown) => JSON.stringify(value, null, 2);
// `--help` anywhere (`cli --help`, `cli keys create --help`), or no command at all: the usage, nothing else.
if (values.help || positionals.length === 0) {
  console.log(USAGE);
  process.exit(0);
}
const [group, command, argument, value] = positionals;
// Only reconciling pays through the wallet (looks payments up, sends them again): only it needs its credentials.
const config = loadConfigOrExit({ pays: group !== undefined && command === 'reconcile' });
const app = await NestFactory.createApplicationContext(CliModule.register(config), { logger: ['error'] });
let exitCode = 0;
try {
  const keys = app.get(ApiKeysService);
  switch (`${group} ${command}`) {
    case 'keys create': {
      const name = values.name?.trim() || fail('--name is required');
      const scopes = (values.scopes ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (scopes.length === 0 || !scopes.every(isScope)) fail(`--scopes must list one or more of ${ALL_SCOPES.join(', ')}`);
      const created = await keys
        .create(name, scopes.filter(isScope))
        .catch((error: Error) => (error instanceof AppError ? fail(error.message) : Promise.reject(error)));
      console.log(`API key ${created.id} for ${name} (${scopes.join(' ')}). It is shown only this once:\n${created.key}`);
      break;
    }
    case 'keys list':
      for (const k of await keys.list()) {
        console.log([k.id, k.name, k.scopes.join(','), `${k.prefix}...`, k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active'].join('\t'));
      }
      break;
    case 'keys revoke': {
      if (!argument || !/^[1-9][0-9]*$/.test(argument)) fail('keys revoke needs a key id');
      if (!(await keys.revoke(BigInt(argument!)))) fail(`no active key ${argument}`);
      console.log(`API key ${argument} revoked`);
      break;
    }
    case 'apps caps': {
      if (!argument) fail('apps caps needs an app (the name its keys were created with)');
      const update: CapsUpdate = {
        dayCapMsat: capOption('day-msat'),
        monthCapMsat: capOption('month-msat'),
        listenerDayCapMsat: capOption('listener-day-msat'),
      };
      if (Object.values(update).every((v) => v === undefined)) fail('give at least one of --day-msat, --month-msat, --listener-day-msat');
      console.log(json(await app.get(TenantsService).setCaps(argument!, update)));
      break;
    }
    case 'apps name': {
      if (!argument || value === undefined) fail('apps name needs an app and a name (or none)');
      const named = await app
        .get(TenantsService)
        .setName(argument!, value!.trim() === 'none' ? null : value!)
        .catch((error: Error) => (error instanceof AppError ? fail(error.message) : Promise.reject(error)));
      console.log(json(named));
      break;
    }
    case 'apps show':
      if (!argument) fail('apps show needs an app');
      console.log(json(await app.get(TenantsService).view(argument!)));
      break;
    case 'ledger check': {
      const report = await app.get(LedgerQueries).checkInvariant();
      console.log(json(invariantReportJson(report)));
      exitCode = report.ok ? 0 : 1;
      break;
    }
    case 'payments reconcile':
    case 'keysends reconcile':
      console.log(json(await app.get(Reconciliation).reconcile()));
      break;
    default:
      fail(`unknown command: ${positionals.join(' ') || '(none)'}`);
  }
} finally {
  await app.close();
}
process.exit(exitCode);
