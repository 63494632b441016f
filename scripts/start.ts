// `npm start`, after set-up and build: runs api and worker side by side, plus the development wallet when
// WALLET_BACKEND names one: the Alby simulator (alby-sim, the default) or the NWC relay and wallet (nwc-sim). The
// simulator reads its own settings (SIM_HOST, SIM_PORT, SIM_ACCESS_TOKEN, NWC_SIM_PORT, NWC_SIM_ADMIN_PORT); the
// service is pointed at it through its ordinary wallet settings (ALBY_API_URL and ALBY_ACCESS_TOKEN, or NWC_URL),
// pays it, and says so; the simulator is then also the domain of Lightning Addresses `<name>@pods.invalid` (a name that can
// never be a real domain), unless LNADDRESS_HOST_MAP says otherwise.
import concurrently from 'concurrently';
import { DEV_NWC, loadConfigOrExit, loadSimulatorConfig, nwcUrl, WORKER_NODE_FLAGS } from '@splitstream/config';

const config = loadConfigOrExit();
const sim = loadSimulatorConfig();
const SIMULATED_LN_DOMAIN = 'pods.invalid';
// The processes write to concurrently's pipes, not to the terminal: readable lines when this script's output is one.
if (config.LOG_FORMAT === 'auto' && process.stdout.isTTY) process.env.LOG_FORMAT = 'pretty';
const commands = [
  { name: 'api', command: 'node dist/apps/api/src/main.js', prefixColor: 'blue' },
  { name: 'worker', command: `node ${WORKER_NODE_FLAGS.join(' ')} dist/apps/worker/src/main.js`, prefixColor: 'magenta' },
];
const albySim = `http://${sim.SIM_HOST}:${sim.SIM_PORT}`;
const nwcRelay = `ws://${sim.SIM_HOST}:${sim.NWC_SIM_PORT}`;
const simulated =
  config.WALLET_BACKEND === 'nwc-sim'
    ? {
        name: 'nwc-sim',
        what: 'the development NWC wallet (WALLET_BACKEND=nwc-sim)',
        where: `${nwcRelay}, admin routes on port ${sim.NWC_SIM_ADMIN_PORT}`,
        // The service pays the simulator this script runs.
        service: { NWC_URL: nwcUrl(DEV_NWC.walletPubkey, [nwcRelay], DEV_NWC.clientSecretHex) },
      }
    : config.WALLET_BACKEND === 'alby-sim' && {
        name: 'alby-sim',
        what: 'the Alby SIMULATOR (WALLET_BACKEND=alby-sim)',
        where: `${albySim} (admin routes under /admin)`,
        service: { ALBY_API_URL: albySim, ALBY_ACCESS_TOKEN: sim.SIM_ACCESS_TOKEN },
      };
if (simulated) {
  Object.assign(process.env, simulated.service);
  const host = config.WALLET_BACKEND === 'nwc-sim' ? `${sim.SIM_HOST}:${sim.NWC_SIM_ADMIN_PORT}` : `${sim.SIM_HOST}:${sim.SIM_PORT}`;
  if (config.NODE_ENV !== 'production' && !process.env.LNADDRESS_HOST_MAP) {
    process.env.LNADDRESS_HOST_MAP = `${SIMULATED_LN_DOMAIN}=http://${host}`;
    // The simulator is on this machine: the outbound guard must let the worker call it (never in production).
    process.env.OUTBOUND_ALLOW_PRIVATE = 'true';
    // Its addresses answer at once: resolved within a second of being owed, so the next run pays them.
    process.env.LNADDRESS_RESOLVE_INTERVAL_SECONDS ??= '1';
  }
  commands.unshift({ name: simulated.name, command: `node dist/apps/${simulated.name}/src/main.js`, prefixColor: 'yellow' });
  console.warn(
    [
      '',
      `*** Paying ${simulated.what}. No real sats move. ***`,
      `*** ${simulated.where} ***`,
      `*** Lightning addresses: LNADDRESS_HOST_MAP=${process.env.LNADDRESS_HOST_MAP ?? ''} OUTBOUND_ALLOW_PRIVATE=${process.env.OUTBOUND_ALLOW_PRIVATE ?? 'false'} LNADDRESS_RESOLVE_INTERVAL_SECONDS=${process.env.LNADDRESS_RESOLVE_INTERVAL_SECONDS ?? ''} ***`,
      '',
    ].join('\n'),
  );
}
const { result } = concurrently(commands, { killOthersOn: ['failure', 'success'] });
result.then(
  () => process.exit(0),
  () => process.exit(1),
);
