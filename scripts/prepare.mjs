// `node scripts/prepare.mjs <step>...`: the preparation steps of npm start, npm test and npm run bench (install,
// generate, build), each skipped when its inputs are what they were when it last succeeded. Plain JavaScript
// without dependencies: it runs before anything is installed.
// A step's stamp is a SHA-256 of its inputs' contents, written beside its output once it succeeds: deleting the
// output (node_modules, the generated client, dist) runs the step again, and so does any change to an input.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
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
    command: ['npm', 'run', '--silent', 'build'],
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

const current = (step) => (existsSync(step.stamp) ? readFileSync(step.stamp, 'utf8').trim() : undefined);

// npm warns once per dependency whose "engines" leave the running Node out (some 20 blocks on Node 20):
// check-node.mjs says it in one line instead.
const withoutEngineWarnings = (text) =>
  text
    .split('\n')
    .filter((line) => !line.includes('EBADENGINE'))
    .join('\n');

export function prepare(name) {
  const step = STEPS[name];
  if (!step) throw new Error(`unknown step ${name} (steps: ${Object.keys(STEPS).join(', ')})`);
  if (current(step) === inputsHash(step.inputs, step.salt)) {
    console.log(`${step.what}: up to date`);
    return;
  }
  const started = Date.now();
  console.log(`${step.what}: ${current(step) ? 'inputs changed' : 'never prepared here'}, running ${step.command.join(' ')}`);
  const [command, ...args] = step.command;
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (result.status !== 0) {
    process.stderr.write(withoutEngineWarnings(`${result.stdout ?? ''}${result.stderr ?? ''}${result.error?.message ?? ''}\n`));
    console.error(`${step.what}: ${step.command.join(' ')} failed`);
    process.exit(result.status || 1);
  }
  // Hashed after the step: npm install may rewrite package-lock.json.
  writeFileSync(step.stamp, `${inputsHash(step.inputs, step.salt)}\n`);
  console.log(`${step.what}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const name of process.argv.slice(2)) prepare(name);
}
