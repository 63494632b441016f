// `node scripts/prepare.mjs [--force] [--quiet] <step>...`: the preparation steps of npm start, npm test and npm run bench
// (install, generate, build), each skipped when its inputs are what they were when it last succeeded (--force runs
// it anyway: `npm run build` is `prepare.mjs --force build`, so every build is stamped; --quiet says nothing of a step
// that is up to date: `npm run cli` checks the build before each command). Plain JavaScript without
// dependencies: it runs before anything is installed.
// A step's stamp is a SHA-256 of its inputs' contents, written beside its output once it succeeds with its inputs
// as they were when it began: deleting the stamp or the output (node_modules, the generated client, dist) runs the
// step again, and so does any change to an input. The stamp is removed before the step runs, so a step that fails
// (tsc still emits) or is interrupted leaves none.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const STEPS = {
  install: {
    what: 'dependencies',
    inputs: ['package.json', 'package-lock.json'],
    // And the Node ABI: native packages are built for one.
    salt: `node-abi-${process.versions.modules}`,
    stamp: 'node_modules/.splitstream-install',
    // Not `npm ci`: the registry these machines reach serves only the Linux builds of native optional packages,
    // so the lock file cannot list the others and `npm ci` refuses it. `npm install` keeps the lock as it is.
    command: ['npm', 'install', '--no-audit', '--no-fund'],
    // It may rewrite package-lock.json itself: stamped with the inputs as it leaves them.
    rewritesInputs: true,
  },
  generate: {
    what: 'the Prisma client',
    inputs: ['prisma/schema.prisma', 'prisma.config.ts', 'package-lock.json'],
    stamp: 'libs/persistence/src/generated/.splitstream-generate',
    command: ['npm', 'run', '--silent', 'db:generate'],
  },
  build: {
    what: 'the build',
    // libs/ holds the generated client: generate runs first.
    inputs: ['apps', 'libs', 'tsconfig.json', 'tsconfig.build.json', 'nest-cli.json', 'package-lock.json'],
    stamp: 'dist/.splitstream-build',
    // tsc's incremental record, removed when the stamp is missing or stale: then dist may not be what the record says
    // (part of it deleted, another branch's build), and tsc would skip what it thinks it has emitted.
    stale: ['dist/tsconfig.build.tsbuildinfo'],
    command: ['node_modules/.bin/nest', 'build', 'api'],
  },
};

const files = (path) =>
  statSync(path).isDirectory()
    ? readdirSync(path)
        .sort()
        .flatMap((name) => files(join(path, name)))
    : [path];

// Paths and contents of every input file, in a stable order.
export function inputsHash(inputs, salt = '', root = '.') {
  const hash = createHash('sha256').update(salt);
  for (const input of inputs) {
    if (!existsSync(join(root, input))) continue;
    for (const file of files(join(root, input))) hash.update(`${file}\0`).update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

const current = (stamp) => (existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : undefined);

// npm warns once per dependency whose "engines" leave the running Node out (some 20 blocks on Node 20):
// check-node.mjs says it in one line instead.
const withoutEngineWarnings = (text) =>
  text
    .split('\n')
    .filter((line) => !line.includes('EBADENGINE'))
    .join('\n');

// Runs one step when it is due (or `force`); returns its exit code. `steps` and `root` are for tests.
export function prepare(name, { force = false, quiet = false, steps = STEPS, root = '.' } = {}) {
  const step = steps[name];
  if (!step) throw new Error(`unknown step ${name} (steps: ${Object.keys(steps).join(', ')})`);
  const at = (path) => join(root, path);
  const stamp = current(at(step.stamp));
  const before = inputsHash(step.inputs, step.salt, root);
  if (stamp === before && !force) {
    if (!quiet) console.log(`${step.what}: up to date`);
    return 0;
  }
  const started = Date.now();
  const why = stamp === before ? 'asked to run' : stamp ? 'inputs changed' : 'not stamped (never done here, or it failed)';
  console.log(`${step.what}: ${why}, running ${step.command.join(' ')}`);
  rmSync(at(step.stamp), { force: true });
  if (stamp !== before) for (const path of step.stale ?? []) rmSync(at(path), { force: true });
  const [command, ...args] = step.command;
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (result.status !== 0) {
    process.stderr.write(withoutEngineWarnings(`${result.stdout ?? ''}${result.stderr ?? ''}${result.error?.message ?? ''}\n`));
    console.error(`${step.what}: ${step.command.join(' ')} failed`);
    return result.status || 1;
  }
  const after = inputsHash(step.inputs, step.salt, root);
  if (after !== before && !step.rewritesInputs) {
    // A file saved while the step ran may or may not be in its output.
    console.log(`${step.what}: done, but an input changed while it ran: not stamped, the next run does it again`);
    return 0;
  }
  writeFileSync(at(step.stamp), `${after}\n`);
  console.log(`${step.what}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const [force, quiet] = [args.includes('--force'), args.includes('--quiet')];
  for (const name of args.filter((arg) => !arg.startsWith('--'))) {
    const code = prepare(name, { force, quiet });
    if (code !== 0) process.exit(code);
  }
}
