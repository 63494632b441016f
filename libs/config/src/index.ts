export { configSchema, walletTarget, type AppConfig, type WalletTarget } from './config.schema.js';
export { ConfigError, loadConfig, loadConfigOrExit, parseConfig } from './load-config.js';
export { APP_CONFIG, ConfigModule } from './config.module.js';
