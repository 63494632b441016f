import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { truncateAll } from '../support/database.js';
import { testDatabaseUrl } from '../support/test-config.js';

// The built CLI (dist/, as `npm run cli` runs it) against the test database: it answers without booting the
// application, explains itself, refuses unknown apps, and keeps its exit codes (0 done, 1 refused, 2 usage).
describe('the CLI (e2e)', () => {
  const DATABASE_URL = testDatabaseUrl();
  const dir = mkdtempSync(join(tmpdir(), 'cli-modules-'));
  let runs = 0;
  // Runs a command, recording the modules its process loaded (test/support/record-modules.mjs).
  const cli = (...args: string[]) => {
    const record = join(dir, `${++runs}.txt`);
    const result = spawnSync('node', ['--import', './test/support/record-modules.mjs', 'dist/apps/cli/src/main.js', ...args], {
      env: { ...process.env, DATABASE_URL, RECORD_MODULES_TO: record },
      encoding: 'utf8',
    });
    return { ...result, modules: readFileSync(record, 'utf8') };
  };
  const APP_STACK = /node_modules\/(@nestjs\/core|@nestjs\/platform-fastify|fastify|@nestjs\/bullmq|bullmq|ioredis)\//;

  beforeAll(() => truncateAll(DATABASE_URL));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs key, app and ledger commands without loading the application stack (no @nestjs/core, Fastify, BullMQ)', () => {
    const commands = [
      ['keys', 'create', '--name', 'light-app', '--scopes', 'events:write'],
      ['keys', 'list'],
      ['keys', 'revoke', '1'],
      ['apps', 'caps', 'light-app', '--day-msat', '1000'],
      ['apps', 'show', 'light-app'],
      ['apps', 'name', 'light-app', 'Light'],
      ['ledger', 'check'],
    ];
    for (const args of commands) {
      const result = cli(...args);
      expect([args.join(' '), result.status, result.stderr]).toEqual([args.join(' '), 0, '']);
      expect(result.modules).toContain('node_modules/pg/'); // the recording works: it saw the database driver
      expect([args.join(' '), result.modules.match(APP_STACK)?.[0]]).toEqual([args.join(' '), undefined]);
    }
    // Reconciling does boot a (small) application context: the recording sees @nestjs/core there.
    const reconcile = cli('payments', 'reconcile');
    expect([reconcile.status, reconcile.stderr]).toEqual([0, '']);
    expect(reconcile.modules).toMatch(/node_modules\/@nestjs\/core\//);
  });

  it('describes every command and option, with an example, in --help and <command> --help', () => {
    const overview = cli('--help');
    expect([overview.status, overview.stderr]).toEqual([0, '']);
    for (const command of ['keys create', 'keys list', 'keys revoke', 'apps show', 'apps caps', 'apps name', 'ledger check', 'payments reconcile']) {
      expect(overview.stdout).toMatch(new RegExp(`^  ${command}.*  \\w`, 'm')); // named, with what it does
      const help = cli(...command.split(' '), '--help');
      expect([command, help.status, help.stderr]).toEqual([command, 0, '']);
      expect(help.stdout).toMatch(new RegExp(`^usage: npm run cli -- ${command}`));
      expect(help.stdout).toMatch(new RegExp(`example[s]?:\\n  npm run cli -- ${command}`));
      expect(help.stdout).toContain('exit codes: 0');
    }
    const caps = cli('apps', 'caps', '--help').stdout;
    for (const option of ['--day-msat', '--month-msat', '--listener-day-msat']) expect(caps).toMatch(new RegExp(`^  ${option} <msat\\|none>  +\\w`, 'm'));
    expect(cli('keys', 'create', '-h').stdout).toMatch(/--scopes <scope>\[,<scope>\.\.\.\] +what the key may do, one or more of: events:write/);
  });

  it('refuses an app that has no key (exit 1, naming it and how to create it), changing nothing', () => {
    for (const args of [
      ['apps', 'caps', 'NoSuchApp', '--day-msat', '1000'],
      ['apps', 'show', 'NoSuchApp'],
      ['apps', 'name', 'NoSuchApp', 'Nobody'],
    ]) {
      const refused = cli(...args);
      expect([refused.status, refused.stdout]).toEqual([1, '']);
      expect(refused.stderr).toContain('no app "NoSuchApp": it has no API key');
      expect(refused.stderr).toContain('npm run cli -- keys create --name NoSuchApp');
    }
    expect(cli('keys', 'list').stdout).not.toContain('NoSuchApp');
  });

  it('prints tables with a header row', () => {
    const [header, ...rows] = cli('keys', 'list').stdout.trimEnd().split('\n');
    expect(header!.split(/ {2,}/)).toEqual(['ID', 'APP', 'SCOPES', 'PREFIX', 'STATUS']);
    expect(rows.length).toBeGreaterThan(0);
    // Columns line up under their heading.
    for (const row of rows) expect(row.indexOf(row.split(/ {2,}/)[1]!)).toBe(header!.indexOf('APP'));
  });

  it('exits 2 on usage errors, 1 on refusals and failures', () => {
    const usage = [
      ['keys', 'lst'],
      ['keys', 'list', 'extra'],
      ['keys', 'list', '--verbose'],
      ['keys', 'revoke'],
      ['keys', 'revoke', 'one'],
      ['keys', 'revoke', '9223372036854775808'], // one above PostgreSQL's bigint: malformed, not the database's error
      ['kyes', '--help'], // a typo of a group asked for its help: not the overview
      ['keys', 'create', '--name', 'x', '--scopes', 'everything'],
      ['keys', 'create', '--name', 'x'.repeat(101), '--scopes', 'events:write'],
      ['keys', 'create', '--name', 'tab\tapp', '--scopes', 'events:write'],
      ['keys', 'create', '--name', 'evil\u202Eppa', '--scopes', 'events:write'], // right-to-left override (Unicode Cf)
      ['keys', 'create', '--name', 'zero\u200Bwidth', '--scopes', 'events:write'],
      ['apps', 'name', 'light-app', 'Light\u202Ethgil'],
      ['apps', 'name', 'light-app', 'Li\u2066ght'], // a left-to-right isolate
      ['apps', 'caps', 'light-app'],
      ['apps', 'caps', 'light-app', '--day-msat', '1.5'],
    ];
    for (const args of usage) {
      const result = cli(...args);
      expect([args.join(' '), result.status, result.stderr]).toEqual([args.join(' '), 2, expect.stringMatching(/^error: .+\n[\s\S]*usage: npm run cli --/)]);
    }
    expect(cli('kyes', '--help').stderr).toMatch(/^error: unknown command: kyes /);
    expect(cli('keys', 'create', '--name', 'x', '--scopes', 'events:write,events:wrte').stderr).toMatch(
      /^error: --scopes "events:wrte" is not a scope: must list/,
    );
    expect(cli('keys', 'revoke', '9223372036854775808').stderr).toMatch(/^error: keys revoke needs a key id/);
    expect(cli('keys', 'revoke', '9223372036854775807').status).toBe(1); // the largest id: in range, no such key
    expect(cli('keys', 'revoke', '999').status).toBe(1);
    expect(cli('keys', 'list').stdout).not.toMatch(/[\u200B\u202E]/); // the refused names created nothing
    expect(cli('apps', 'show', 'light-app').stdout).toContain('"name": "Light"'); // nor renamed the app
    expect(cli('keys', 'create', '--name', 'LIGHT-APP', '--scopes', 'events:write').status).toBe(1); // another app in other case
    // A day cap above the month cap is set, with a warning that it can never be reached.
    const above = cli('apps', 'caps', 'light-app', '--day-msat', '50000000000', '--month-msat', '1000000000');
    expect([above.status, above.stderr]).toEqual([
      0,
      'warning: the day cap (50000000000 msat) is above the month cap (1000000000 msat): it can never be reached\n',
    ]);
    expect(JSON.parse(above.stdout).caps).toMatchObject({ dayMsat: '50000000000', monthMsat: '1000000000' });
    const unreachable = spawnSync('node', ['dist/apps/cli/src/main.js', 'keys', 'list'], {
      env: { ...process.env, DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/none' },
      encoding: 'utf8',
    });
    expect([unreachable.status, unreachable.stderr]).toEqual([1, expect.stringMatching(/^error: .*reach database/i)]);
  });
});
