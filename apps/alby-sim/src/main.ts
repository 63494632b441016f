import { loadSimulatorConfig } from '@splitstream/config';
import { createSimServer } from './sim-server.js';

const config = loadSimulatorConfig();
const { app } = createSimServer({ accessToken: config.SIM_ACCESS_TOKEN });
await app.listen({ host: config.SIM_HOST, port: config.SIM_PORT });
console.log(`alby-sim (simulated Alby Wallet API, no real sats) listening on http://${config.SIM_HOST}:${config.SIM_PORT}`);
