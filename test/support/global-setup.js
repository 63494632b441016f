// Loaded by jest outside its module system, so it only starts the TypeScript script that does the work.
import { execFileSync } from 'node:child_process';

export default function globalSetup() {
  execFileSync('npx', ['tsx', 'scripts/db/prepare-test-db.ts'], { stdio: 'inherit' });
}
