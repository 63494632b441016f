import { spawnSync } from 'node:child_process';
import { query } from '../support/database.js';
import { testDatabaseUrl } from '../support/test-config.js';

// The role docker-compose gives the api and worker (docker/postgres/app-role.sql.in), created the same way on a
// database of its own: migrations run as the owner, then the app's role can read and write rows and run the
// service's own checks, and can neither change the schema nor drop or truncate data.
describe('the least-privileged database role (e2e)', () => {
  const ownerUrl = new URL(testDatabaseUrl());
  ownerUrl.pathname = `${ownerUrl.pathname}_role`;
  const database = ownerUrl.pathname.slice(1);
  const role = 'splitstream_app_test';
  const appUrl = new URL(ownerUrl);
  appUrl.username = role;
  appUrl.password = 'app-password';
  const admin = new URL(ownerUrl);
  admin.pathname = '/postgres';
  const owner = decodeURIComponent(ownerUrl.username) || 'postgres';

  const psql = (url: URL, args: string[]) => spawnSync('psql', [url.toString(), '-v', 'ON_ERROR_STOP=1', ...args], { encoding: 'utf8' });

  beforeAll(async () => {
    await query(admin.toString(), `DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await query(admin.toString(), `DROP ROLE IF EXISTS ${role}`);
    await query(admin.toString(), `CREATE DATABASE "${database}"`);
    const created = psql(ownerUrl, [
      '-v',
      `app_role=${role}`,
      '-v',
      'app_password=app-password',
      '-v',
      `owner=${owner}`,
      '-f',
      'docker/postgres/app-role.sql.in',
    ]);
    expect(created.stderr).toBe('');
    const migrated = spawnSync('npx', ['tsx', 'scripts/db/migrate.ts', 'deploy'], {
      env: { ...process.env, DATABASE_URL: ownerUrl.toString() },
      encoding: 'utf8',
    });
    expect(migrated.status).toBe(0);
  });

  afterAll(async () => {
    await query(admin.toString(), `DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await query(admin.toString(), `DROP ROLE IF EXISTS ${role}`);
  });

  it('reads and writes rows of tables the migrations created after it, and runs the ledger check', async () => {
    const [recipient] = await query<{ id: string }>(appUrl.toString(), `INSERT INTO recipient (address) VALUES ('02${'3'.repeat(64)}') RETURNING id`);
    expect(recipient!.id).toBeDefined();
    await query(appUrl.toString(), `INSERT INTO app_recipient (recipient_id, app_id, name) VALUES (${recipient!.id}, 'app', 'Host')`);
    await query(appUrl.toString(), `UPDATE app_recipient SET name = 'Host (renamed)' WHERE recipient_id = ${recipient!.id}`);
    await query(appUrl.toString(), `INSERT INTO payout (trigger) VALUES ('manual')`);
    const check = spawnSync('node', ['dist/apps/cli/src/main.js', 'ledger', 'check'], {
      env: { ...process.env, DATABASE_URL: appUrl.toString() },
      encoding: 'utf8',
    });
    expect(JSON.parse(check.stdout)).toMatchObject({ ok: true });
  });

  it.each([
    ['create a table', 'CREATE TABLE intruder (id int)'],
    ['change a table', 'ALTER TABLE payment ADD COLUMN intruder int'],
    ['drop a table', 'DROP TABLE payment_verdict'],
    ['truncate a table', 'TRUNCATE balance'],
  ])('cannot %s', async (_what, sql) => {
    await expect(query(appUrl.toString(), sql)).rejects.toThrow(/permission denied|must be owner/);
  });
});
