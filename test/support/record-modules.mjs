// `node --import ./test/support/record-modules.mjs ...`: appends every module the process loads (ES modules as
// they resolve, CommonJS ones as they sit in require's cache at exit) to the file RECORD_MODULES_TO names.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

const file = process.env.RECORD_MODULES_TO;
register(new URL('./record-modules-hooks.mjs', import.meta.url));
const require = createRequire(import.meta.url);
process.on('exit', () => appendFileSync(file, `${Object.keys(require.cache).join('\n')}\n`));
