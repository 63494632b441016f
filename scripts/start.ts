// `npm start`, after set-up and build: runs api and worker side by side, plus the Alby simulator when no
// ALBY_ACCESS_TOKEN is configured (the service then pays the simulator, and says so).
import concurrently from 'concurrently';
import { loadConfigOrExit, walletTarget } from '@splitstream/config';

const config = loadConfigOrExit();
const wallet = walletTarget(config);
const commands = [
  { name: 'api', command: 'node dist/apps/api/src/main.js', prefixColor: 'blue' },
  { name: 'worker', command: 'node dist/apps/worker/src/main.js', prefixColor: 'magenta' },
];
if (wallet.simulated) {
  commands.unshift({ name: 'alby-sim', command: 'node dist/apps/alby-sim/src/main.js', prefixColor: 'yellow' });
  console.warn(
    [
      '',
      '*** ALBY_ACCESS_TOKEN is not set: running the Alby SIMULATOR and paying it. No real sats move. ***',
      `*** Simulator: ${wallet.url} (admin routes under /admin; see README "The Alby simulator") ***`,
      '',
    ].join('\n'),
  );
}
const { result } = concurrently(commands, { killOthersOn: ['failure', 'success'] });
result.then(
  () => process.exit(0),
  () => process.exit(1),
);
