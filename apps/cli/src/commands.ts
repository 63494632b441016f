import { ALL_SCOPES, ApiKeysService, isScope } from '@splitstream/auth/keys';
import type { AppConfig } from '@splitstream/config';
import { AppError, ErrorCode } from '@splitstream/errors';
import { invariantReportJson, LedgerQueries } from '@splitstream/ledger/queries';
import { MSAT_DECIMAL } from '@splitstream/money';
import { PrismaService } from '@splitstream/persistence';
import { type CapsUpdate, TenantsService } from '@splitstream/tenants';

export interface OptionSpec {
  value: string; // what the option takes, as help shows it
  description: string;
  optional?: true;
}

export interface Input {
  args: string[];
  values: Record<string, string | undefined>;
  config: AppConfig;
  prisma: PrismaService;
}

export interface CommandSpec {
  name: string; // group and command, as typed
  aliases?: string[];
  args: string[]; // positional arguments, as help shows them (all required)
  summary: string;
  description: string;
  options: Record<string, OptionSpec>;
  examples: string[];
  pays?: true; // needs the wallet's settings
  // Resolves to the exit code; throws AppError to refuse (InvalidRequest: a usage error).
  run(input: Input): Promise<number>;
}

export const usage = (message: string, path = 'arguments'): AppError => AppError.validation([{ path, message }], message);

const MAX_KEY_ID = 2n ** 63n - 1n;

const json = (value: unknown) => console.log(JSON.stringify(value, null, 2));

// Columns padded to their widest cell, under a header row.
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  return [header, ...rows].map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}

// A cap option: a whole number of msat, or "none" to remove the app's own; absent leaves the cap as it is.
const capOption = (values: Input['values'], option: string): bigint | null | undefined => {
  const value = values[option];
  if (value === undefined) return undefined;
  if (value === 'none') return null;
  if (!MSAT_DECIMAL.test(value)) throw usage(`--${option} must be a whole number of msat or "none"`, option);
  return BigInt(value);
};

// Apps exist once they have a key: say how to create one rather than act on a typo.
async function existingApp(tenants: TenantsService, app: string): Promise<void> {
  await tenants.requireApp(app).catch((error: unknown) => {
    if (!(error instanceof AppError && error.code === ErrorCode.NotFound)) throw error;
    throw new AppError(ErrorCode.NotFound, `${error.message}. Create it with its first key: npm run cli -- keys create --name ${app} --scopes events:write`);
  });
}

const CAP_OPTIONS: Record<string, OptionSpec> = {
  'day-msat': { value: '<msat|none>', optional: true, description: `the app's cap per UTC day; none: the service's default (DEFAULT_APP_DAY_CAP_SATS)` },
  'month-msat': { value: '<msat|none>', optional: true, description: `the app's cap per UTC month; none: the service's default (DEFAULT_APP_MONTH_CAP_SATS)` },
  'listener-day-msat': {
    value: '<msat|none>',
    optional: true,
    description: `each listener's cap per UTC day (events must then name a listenerId); none: no listener cap`,
  },
};

export const COMMANDS: CommandSpec[] = [
  {
    name: 'keys create',
    args: [],
    summary: 'create an API key for an app (its first key creates the app); prints the key, once',
    description:
      "Creates an API key. The app is the key's name: its first key creates it, later keys with the same name belong to it. " +
      "Refused when the name is another app's registered name, or another app's id in other letter case. The key is printed " +
      'once, on the last line: only its hash is stored.',
    options: {
      name: { value: '<app>', description: 'the app the key belongs to (its id: events, caps and payments are per app)' },
      scopes: { value: '<scope>[,<scope>...]', description: `what the key may do, one or more of: ${ALL_SCOPES.join(', ')}` },
    },
    examples: ['npm run cli -- keys create --name my-podcast-app --scopes events:write,payouts:read'],
    async run({ values, config, prisma }) {
      const name = values.name?.trim();
      if (!name) throw usage('--name is required', 'name');
      const scopes = (values.scopes ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const unknown = scopes.filter((scope) => !isScope(scope));
      if (scopes.length === 0 || unknown.length > 0) {
        const named =
          unknown.length > 0 ? `${unknown.map((scope) => JSON.stringify(scope)).join(', ')} ${unknown.length > 1 ? 'are not scopes' : 'is not a scope'}: ` : '';
        throw usage(`--scopes ${named}must list one or more of ${ALL_SCOPES.join(', ')}`, 'scopes');
      }
      const created = await new ApiKeysService(prisma, config).create(name, scopes.filter(isScope));
      console.log(`API key ${created.id} for ${name} (${scopes.join(' ')}). It is shown only this once:\n${created.key}`);
      return 0;
    },
  },
  {
    name: 'keys list',
    args: [],
    summary: 'list every API key: id, app, scopes, prefix, active or revoked',
    description: 'Lists every API key, oldest first, as a table. Keys themselves are never shown (only their first 8 characters).',
    options: {},
    examples: ['npm run cli -- keys list'],
    async run({ config, prisma }) {
      const rows = (await new ApiKeysService(prisma, config).list()).map((k) => [
        k.id,
        k.name,
        k.scopes.join(','),
        `${k.prefix}...`,
        k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active',
      ]);
      console.log(table(['ID', 'APP', 'SCOPES', 'PREFIX', 'STATUS'], rows));
      return 0;
    },
  },
  {
    name: 'keys revoke',
    args: ['<id>'],
    summary: 'revoke a key by its id: it stops working at once',
    description: 'Revokes an API key (its id from keys list). Requests with it are refused from then on. Refused when no active key has that id.',
    options: {},
    examples: ['npm run cli -- keys revoke 3'],
    async run({ args: [id], config, prisma }) {
      // Ids are PostgreSQL bigints: a longer number is malformed here, not the database's error.
      if (!/^[1-9][0-9]{0,18}$/.test(id!) || BigInt(id!) > MAX_KEY_ID) throw usage('keys revoke needs a key id (a number, from keys list)', 'id');
      if (!(await new ApiKeysService(prisma, config).revoke(BigInt(id!)))) throw new AppError(ErrorCode.NotFound, `no active key ${id}`);
      console.log(`API key ${id} revoked`);
      return 0;
    },
  },
  {
    name: 'apps show',
    args: ['<app>'],
    summary: "an app's spend caps, its name, and what it accepted today and this month",
    description:
      "Shows an app's caps in force (its own or the service's defaults), the name its payments carry, and the msat it accepted this UTC day and month, as JSON.",
    options: {},
    examples: ['npm run cli -- apps show my-podcast-app'],
    async run({ args: [app], config, prisma }) {
      const tenants = new TenantsService(prisma, config);
      await existingApp(tenants, app!);
      json(await tenants.view(app!));
      return 0;
    },
  },
  {
    name: 'apps caps',
    args: ['<app>'],
    summary: "set an app's spend caps (msat per day, per month, per listener per day)",
    description:
      "Sets an existing app's spend caps, in msat; an event that would take the app (or a listener) over one is rejected (its result in POST /v1/events names the cap). " +
      'Options left out keep their value. Counters of the current day and month are rebuilt from the events accepted so far. Prints the app as apps show does.',
    options: CAP_OPTIONS,
    examples: ['npm run cli -- apps caps my-podcast-app --day-msat 5000000000 --listener-day-msat none'],
    async run({ args: [app], values, config, prisma }) {
      const update: CapsUpdate = {
        dayCapMsat: capOption(values, 'day-msat'),
        monthCapMsat: capOption(values, 'month-msat'),
        listenerDayCapMsat: capOption(values, 'listener-day-msat'),
      };
      if (Object.values(update).every((v) => v === undefined)) throw usage('give at least one of --day-msat, --month-msat, --listener-day-msat');
      const tenants = new TenantsService(prisma, config);
      await existingApp(tenants, app!);
      const view = await tenants.setCaps(app!, update);
      json(view);
      // Allowed (the month cap may be lowered first, the day cap after), but an operator who names a day cap above
      // the month cap should know. (A month cap below the default day cap is the usual way to cap by month only.)
      if (typeof update.dayCapMsat === 'bigint' && BigInt(view.caps.dayMsat) > BigInt(view.caps.monthMsat)) {
        console.error(`warning: the day cap (${view.caps.dayMsat} msat) is above the month cap (${view.caps.monthMsat} msat): it can never be reached`);
      }
      return 0;
    },
  },
  {
    name: 'apps name',
    args: ['<app>', '<name|none>'],
    summary: "set the name an app's payments carry (bLIP-10 app_name); none: the app id",
    description:
      "Registers the name an existing app's payments carry to receivers (bLIP-10 app_name): 1 to 100 characters, no control or invisible format characters (such as a right-to-left override or a zero-width space). " +
      "Refused when it is another app's name or id in any letter case. none goes back to the app id.",
    options: {},
    examples: ["npm run cli -- apps name my-podcast-app 'My Podcast App'", 'npm run cli -- apps name my-podcast-app none'],
    async run({ args: [app, name], config, prisma }) {
      const tenants = new TenantsService(prisma, config);
      await existingApp(tenants, app!);
      json(await tenants.setName(app!, name!.trim() === 'none' ? null : name!));
      return 0;
    },
  },
  {
    name: 'ledger check',
    args: [],
    summary: 'verify the ledger invariant (exit 1 when it does not hold)',
    description:
      'Checks that the applied events are worth what accrued, that accrued = owed + in flight + parked + paid (in total and per recipient), and that payments agree with the balances. ' +
      'Prints the totals and any problems as JSON; exits 1 when the invariant does not hold.',
    options: {},
    examples: ['npm run cli -- ledger check'],
    async run({ prisma }) {
      const report = await new LedgerQueries(prisma).checkInvariant();
      json(invariantReportJson(report));
      return report.ok ? 0 : 1;
    },
  },
  {
    name: 'payments reconcile',
    aliases: ['keysends reconcile'],
    args: [],
    summary: 'look payments of unknown outcome up in the wallet now (alias: keysends reconcile)',
    description:
      "Looks every payment whose outcome is unknown up in the wallet's records now (the worker also does so on a schedule): paid ones are settled, " +
      'absent ones go back to owed or are sent again. Needs the wallet settings the worker uses. Prints what it did as JSON.',
    options: {},
    examples: ['npm run cli -- payments reconcile'],
    pays: true,
    async run({ config }) {
      const { reconcile } = await import('./reconcile.js');
      json(await reconcile(config));
      return 0;
    },
  },
];

export const findCommand = (name: string): CommandSpec | undefined => COMMANDS.find((c) => c.name === name || c.aliases?.includes(name));
