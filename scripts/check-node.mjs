// Run first by `npm start` and `npm test`, before anything is installed (so plain JavaScript, no dependencies).
// The dependencies declare the Node versions in package.json "engines" (NestJS's CLI tooling ^22.22.3 or
// ^24.15.0, nestjs-pino >=22.12); Node 20.19+ still builds and passes the tests but is end-of-life and unsupported.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// 'supported' | 'end-of-life' (works, warned) | 'too-old' (refused)
export function nodeSupport(version) {
  const [major, minor, patch] = version.split('.').map(Number);
  const atLeast = (m, p) => minor > m || (minor === m && patch >= p);
  if ((major === 22 && atLeast(22, 3)) || (major === 24 && atLeast(15, 0)) || major >= 26) return 'supported';
  return major === 20 && atLeast(19, 0) ? 'end-of-life' : 'too-old';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { engines } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  const version = process.versions.node;
  const support = nodeSupport(version);
  // One line, also standing for npm's engine warnings (one block per dependency), which setup leaves out.
  if (support === 'supported') {
    console.log(`Node ${version} (splitstream supports ${engines.node})`);
  } else if (support === 'end-of-life') {
    console.warn(`warning: Node ${version} is end-of-life; splitstream supports ${engines.node}: fine for development and tests, not for production`);
  } else {
    console.error(`error: splitstream needs Node ${engines.node} (Node ${version} is running). Install Node 22 or 24.`);
    process.exit(1);
  }
}
