// `npm start`, after set-up and build: runs api and worker side by side, plus the development wallet of the
// configured rail when no real one is configured: the Alby simulator (WALLET_BACKEND=alby without
// ALBY_ACCESS_TOKEN) or the NWC relay and wallet (WALLET_BACKEND=nwc without NWC_URL). The service then pays it,
// and says so; the simulator is then also the domain of Lightning Addresses `<name>@pods.invalid` (a name that can
// never be a real domain), unless LNADDRESS_HOST_MAP says otherwise.
import concurrently from 'concurrently';
import { loadConfigOrExit, nwcTarget, walletTarget } from '@splitstream/config';

const config = loadConfigOrExit();
const SIMULATED_LN_DOMAIN = 'pods.invalid';
const commands = [
  { name: 'api', command: 'node dist/apps/api/src/main.js', prefixColor: 'blue' },
  { name: 'worker', command: 'node dist/apps/worker/src/main.js', prefixColor: 'magenta' },
];
const simulated =
  config.WALLET_BACKEND === 'nwc'
    ? nwcTarget(config).simulated && { name: 'nwc-sim', what: 'the development NWC wallet (NWC_URL is not set)', where: `ws://${config.SIM_HOST}:${config.NWC_SIM_PORT}, admin routes on port ${config.NWC_SIM_ADMIN_PORT}` }
    : walletTarget(config).simulated && { name: 'alby-sim', what: 'the Alby SIMULATOR (ALBY_ACCESS_TOKEN is not set)', where: `${walletTarget(config).url} (admin routes under /admin)` };
if (simulated) {
  const host = config.WALLET_BACKEND === 'nwc' ? `${config.SIM_HOST}:${config.NWC_SIM_ADMIN_PORT}` : `${config.SIM_HOST}:${config.SIM_PORT}`;
  if (config.NODE_ENV !== 'production' && !process.env.LNADDRESS_HOST_MAP) {
    process.env.LNADDRESS_HOST_MAP = `${SIMULATED_LN_DOMAIN}=http://${host}`;
    // The simulator is on this machine: the outbound guard must let the worker call it (never in production).
    process.env.OUTBOUND_ALLOW_PRIVATE = 'true';
  }
  commands.unshift({ name: simulated.name, command: `node dist/apps/${simulated.name}/src/main.js`, prefixColor: 'yellow' });
  console.warn(
    ['', `*** Paying ${simulated.what}. No real sats move. ***`, `*** ${simulated.where} ***`, `*** Lightning addresses: LNADDRESS_HOST_MAP=${process.env.LNADDRESS_HOST_MAP ?? ''} OUTBOUND_ALLOW_PRIVATE=${process.env.OUTBOUND_ALLOW_PRIVATE ?? 'false'} ***`, ''].join('\n'),
  );
}
const { result } = concurrently(commands, { killOthersOn: ['failure', 'success'] });
result.then(
  () => process.exit(0),
  () => process.exit(1),
);
