import { DEV_NWC, loadSimulatorConfig } from '@splitstream/config';
import { startNwcSim } from './nwc-sim.js';

const config = loadSimulatorConfig();
const sim = await startNwcSim({
  host: config.SIM_HOST,
  relayPort: config.NWC_SIM_PORT,
  walletSecret: Uint8Array.from(Buffer.from(DEV_NWC.walletSecretHex, 'hex')),
  clients: [DEV_NWC.clientPubkey],
});
await sim.admin.listen({ host: config.SIM_HOST, port: config.NWC_SIM_ADMIN_PORT });
console.log(`nwc-sim (development NWC wallet, no real sats): relay ${sim.relay.url}, admin http://${config.SIM_HOST}:${config.NWC_SIM_ADMIN_PORT}/admin`);
