// The CLI's commands, process start to exit, beside a bare `node -e ''`.
import { spawnSync } from 'node:child_process';
import { type BenchSection, freshDatabase, median, ratio } from '../support.js';

const CLI_TARGET_MS = 2_000;

export const cli: BenchSection = {
  name: 'cli',
  async run(ctx) {
    await freshDatabase(ctx.databaseUrl);
    ctx.createKey('bench-cli');
    const medianMs = (args: string[]) =>
      median(
        Array.from({ length: 5 }, () => {
          const started = performance.now();
          const result = spawnSync('node', args, { env: { ...process.env, ...ctx.env }, encoding: 'utf8' });
          if (result.status !== 0) throw new Error(`${args.join(' ')}: ${result.stderr}`);
          return performance.now() - started;
        }),
      );
    const bare = medianMs(['-e', '']);
    for (const command of [
      ['keys', 'list'],
      ['apps', 'show', 'bench-cli'],
      ['ledger', 'check'],
      ['payments', 'reconcile'],
    ]) {
      const ms = medianMs(['dist/apps/cli/src/main.js', ...command]);
      ctx.report({
        what: `CLI: ${command.join(' ')} (median of 5)`,
        figure: `${Math.round(ms)} ms`,
        anchor: `node -e '': ${Math.round(bare)} ms`,
        ratio: ratio(ms, bare),
        target: `< ${CLI_TARGET_MS.toLocaleString('en')} ms`,
        met: ms < CLI_TARGET_MS,
      });
    }
  },
};
