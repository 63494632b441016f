import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';

// npm start's preparation (scripts/prepare.mjs, run by scripts/setup.sh): once generate and build have run, running
// them again with nothing changed runs neither (the second start listens within seconds, not minutes).
describe('npm start preparation (e2e)', () => {
  const prepare = () => spawnSync('node', ['scripts/prepare.mjs', 'generate', 'build'], { encoding: 'utf8' });

  it('skips client generation and the build when nothing changed since they last succeeded', () => {
    const first = prepare();
    expect([first.status, first.stderr]).toEqual([0, '']);
    const stamp = readFileSync('dist/.splitstream-build', 'utf8');
    const built = statSync('dist/apps/api/src/main.js').mtimeMs;
    const client = statSync('libs/persistence/src/generated/prisma/client.ts').mtimeMs;

    const second = prepare();
    expect([second.status, second.stderr]).toEqual([0, '']);
    expect(second.stdout).toBe('the Prisma client: up to date\nthe build: up to date\n');
    expect(statSync('dist/apps/api/src/main.js').mtimeMs).toBe(built);
    expect(statSync('libs/persistence/src/generated/prisma/client.ts').mtimeMs).toBe(client);
    expect(readFileSync('dist/.splitstream-build', 'utf8')).toBe(stamp);

    // npm run cli prepares the build too (it runs what the sources are, not what dist happens to hold), quietly when
    // it is up to date and on stderr when it builds: `npm run cli -- keys create ... | tail -n 1` still gets the key.
    const cli = spawnSync('npm', ['run', '--silent', 'cli', '--', '--help'], { encoding: 'utf8' });
    expect([cli.status, cli.stderr, cli.stdout]).toEqual([0, '', expect.stringMatching(/^usage: npm run cli -- <command>/)]);
  }, 180_000);
});
