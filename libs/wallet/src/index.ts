export * from './wallet.types.js';
export { AlbyClient, type AlbyClientOptions, type Bolt11Paid, type OutgoingPayment, type OutgoingQuery } from './alby/alby-client.js';
export { AlbyWallet, memoFor } from './alby/alby.wallet.js';
export { WalletModule } from './wallet.module.js';
