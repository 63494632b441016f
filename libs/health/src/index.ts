export { HealthController } from './health.controller.js';
export { HealthModule } from './health.module.js';
export { MetricsServer } from './metrics.server.js';
export { type ReportedWalletStatus, WALLET_STATUS_TTL_MS, WalletStatusStore } from './wallet-status.store.js';
export { WALLET_PROBE_EVERY_MS } from './wallet.health.js';
