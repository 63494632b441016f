export * from './wallet.types.js';
export { AlbyClient, type AlbyClientOptions, type Bolt11Paid, type OutgoingPayment, type OutgoingQuery, WalletReadError } from './alby/alby-client.js';
export { AlbyWallet, memoFor } from './alby/alby.wallet.js';
export {
  connectionFrom,
  type Encryption,
  hexToUtf8,
  Nip47Cipher,
  Nip47Error,
  type Nip47ErrorCode,
  type NwcConnection,
  NWC_INFO_KIND,
  NWC_REQUEST_KIND,
  NWC_RESPONSE_KIND,
  utf8ToHex,
} from './nwc/nip47.js';
export { NotSentError, NwcClient, type Nip47Reply, type WalletInfo } from './nwc/nwc-client.js';
export { NwcWallet } from './nwc/nwc.wallet.js';
export { settleable } from './settleable.js';
export { WalletModule } from './wallet.module.js';
