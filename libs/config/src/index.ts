export { configSchema, isSimulatedWallet, nwcTarget, SECONDS_PER_BLOCK, walletTarget, type AppConfig, type WalletTarget } from './config.schema.js';
export { DEV_NWC, nwcUrl, parseNwcUrl, type NwcUrlParts } from './nwc-url.js';
export { ConfigError, loadConfig, loadConfigOrExit, parseConfig, toEnvironment } from './load-config.js';
export { APP_CONFIG, ConfigModule } from './config.module.js';
