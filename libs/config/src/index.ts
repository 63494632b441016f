export {
  configSchema,
  isSimulatedWallet,
  nwcTarget,
  SECONDS_PER_BLOCK,
  SIMULATED_ALBY_DEFAULTS,
  SIMULATED_NWC_URL,
  walletProblems,
  walletTarget,
  type AppConfig,
  type WalletTarget,
} from './config.schema.js';
export { WORKER_NODE_FLAGS } from './node-flags.js';
export { DEV_NWC, nwcUrl, parseNwcUrl, type NwcUrlParts } from './nwc-url.js';
export { ConfigError, type ConfigNeeds, loadConfig, loadConfigOrExit, parseConfig, toEnvironment } from './load-config.js';
export { APP_CONFIG, ConfigModule } from './config.module.js';
export { loadSimulatorConfig, parseSimulatorConfig, SIMULATOR_DEFAULTS, simulatorConfigSchema, type SimulatorConfig } from './simulator-config.js';
