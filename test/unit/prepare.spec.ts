import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
// @ts-expect-error plain JavaScript: it runs before dependencies (and types) are installed
import { inputsHash, prepare, STEPS } from '../../scripts/prepare.mjs';

// The stamps of npm start's preparation steps: a step runs again exactly when an input's content (or name) changed.
describe('the preparation steps of npm start and npm test', () => {
  const root = mkdtempSync(join(tmpdir(), 'prepare-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const hash = () => inputsHash(['src', 'lock.json', 'absent.json'], 'salt', root);

  it('hash every input file, so any change, addition or rename is seen, and nothing else', () => {
    mkdirSync(join(root, 'src/a'), { recursive: true });
    writeFileSync(join(root, 'src/a/one.ts'), 'one');
    writeFileSync(join(root, 'lock.json'), '{}');
    const first = hash();
    expect(hash()).toBe(first);
    writeFileSync(join(root, 'elsewhere.ts'), 'not an input');
    expect(hash()).toBe(first);
    writeFileSync(join(root, 'src/a/one.ts'), 'One');
    const changed = hash();
    expect(changed).not.toBe(first);
    writeFileSync(join(root, 'src/a/two.ts'), '');
    expect(hash()).not.toBe(changed);
    rmSync(join(root, 'src/a/two.ts'));
    expect(hash()).toBe(changed);
    expect(inputsHash(['src', 'lock.json'], 'other salt', root)).not.toBe(changed);
  });

  it('cover what each step reads: the lock for all, the schema for the client, sources and tsconfig for the build', () => {
    expect(STEPS.install.inputs).toEqual(['package.json', 'package-lock.json']);
    expect(STEPS.generate.inputs).toEqual(expect.arrayContaining(['prisma/schema.prisma', 'package-lock.json']));
    expect(STEPS.build.inputs).toEqual(expect.arrayContaining(['apps', 'libs', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json']));
  });

  it('make npm run build a forced, stamped build step, and npm run cli prepare the build first (its lines on stderr)', () => {
    const { scripts } = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
    expect(scripts.build).toBe('node scripts/prepare.mjs --force build');
    expect(scripts.cli).toBe('node scripts/prepare.mjs --quiet build >&2 && node dist/apps/cli/src/main.js');
    expect(STEPS.build.stale).toEqual(['dist/tsconfig.build.tsbuildinfo']);
  });
});

// prepare() on a tiny project: its "build" copies src/ to out/ and keeps an incremental record in out/, as tsc does;
// a file `mode` makes it fail after emitting (as tsc does), or save a source after it read them.
describe('a preparation step', () => {
  const BUILD = `
    import { appendFileSync, cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
    const mode = existsSync('mode') ? readFileSync('mode', 'utf8') : '';
    appendFileSync('runs.log', existsSync('out/record') ? 'with record\\n' : 'without record\\n');
    cpSync('src', 'out', { recursive: true });
    writeFileSync('out/record', '');
    if (mode === 'fail') process.exit(2);
    if (mode === 'edit') appendFileSync('src/a.ts', '// saved during the build\\n');`;
  const steps = {
    build: { what: 'the build', inputs: ['src'], stamp: 'out/.stamp', stale: ['out/record'], command: [process.execPath, 'build.mjs'] },
  };
  let root: string;
  let lines: string[];
  const run = (force = false): number => prepare('build', { force, steps, root });
  const runs = () => readFileSync(join(root, 'runs.log'), 'utf8').trim().split('\n');
  const stamped = () => existsSync(join(root, 'out/.stamp'));
  const set = (file: string, text: string) => writeFileSync(join(root, file), text);

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'prepare-step-'));
    mkdirSync(join(root, 'src'));
    set('src/a.ts', 'a');
    set('build.mjs', BUILD);
    set('runs.log', '');
    lines = [];
    jest.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    jest.spyOn(console, 'error').mockImplementation((line: string) => void lines.push(line));
    jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => {
    jest.restoreAllMocks();
    rmSync(root, { recursive: true, force: true });
  });

  it('runs once, then says up to date until an input changes', () => {
    expect([run(), run()]).toEqual([0, 0]);
    expect(lines.at(-1)).toBe('the build: up to date');
    // Quiet (npm run cli before each command): nothing to say when there is nothing to do.
    expect(prepare('build', { quiet: true, steps, root })).toBe(0);
    expect(lines.at(-1)).toBe('the build: up to date');
    expect(lines).toHaveLength(3);
    set('src/a.ts', 'A');
    expect(run()).toBe(0);
    expect(runs()).toHaveLength(2);
  });

  it('leaves no stamp when it fails (after emitting): going back to the stamped sources runs it again', () => {
    expect(run()).toBe(0);
    set('src/a.ts', 'broken');
    set('mode', 'fail');
    expect(run()).toBe(2);
    expect(stamped()).toBe(false);
    set('src/a.ts', 'a');
    set('mode', '');
    expect(run()).toBe(0);
    expect([runs(), stamped()]).toEqual([['without record', 'without record', 'without record'], true]);
  });

  it('stamps nothing when a source is saved while it runs: the next run does it again', () => {
    set('mode', 'edit');
    expect(run()).toBe(0);
    expect([stamped(), lines.at(-1)]).toEqual([false, expect.stringContaining('an input changed while it ran: not stamped')]);
    set('mode', '');
    expect(run()).toBe(0);
    expect([runs().length, stamped()]).toEqual([2, true]);
    expect(readFileSync(join(root, 'out/a.ts'), 'utf8')).toBe(readFileSync(join(root, 'src/a.ts'), 'utf8'));
  });

  it("removes the tool's incremental record when the stamp is missing or stale, and keeps it for a forced run of a stamped output", () => {
    expect(run()).toBe(0);
    rmSync(join(root, 'out/.stamp')); // part of the output deleted with the stamp: the record must not be trusted
    expect(run()).toBe(0);
    set('src/a.ts', 'changed');
    expect(run()).toBe(0);
    expect(run(true)).toBe(0);
    expect([runs(), stamped()]).toEqual([['without record', 'without record', 'without record', 'with record'], true]);
  });

  it('runs when forced, even up to date, and stamps what it built', () => {
    expect(run()).toBe(0);
    rmSync(join(root, 'out/.stamp'));
    set('mode', 'fail');
    expect(run(true)).toBe(2); // a forced build that fails leaves no stamp either
    expect(stamped()).toBe(false);
    set('mode', '');
    expect(run(true)).toBe(0);
    expect(run()).toBe(0);
    expect([runs().length, lines.at(-1), stamped()]).toEqual([3, 'the build: up to date', true]);
  });
});
