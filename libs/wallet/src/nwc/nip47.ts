import * as nip04 from 'nostr-tools/nip04';
import * as nip44 from 'nostr-tools/nip44';
import { getPublicKey } from 'nostr-tools/pure';
import { parseNwcUrl } from '@splitstream/config';

// Nostr Wallet Connect (NIP-47) as both sides speak it: the connection string, the event kinds, the methods and
// error codes, and the two encryptions (NIP-44 v2, and NIP-04 for wallets that do not advertise NIP-44).

export const NWC_INFO_KIND = 13194;
export const NWC_REQUEST_KIND = 23194;
export const NWC_RESPONSE_KIND = 23195;

export const Nip47Error = {
  RateLimited: 'RATE_LIMITED',
  NotImplemented: 'NOT_IMPLEMENTED',
  InsufficientBalance: 'INSUFFICIENT_BALANCE',
  QuotaExceeded: 'QUOTA_EXCEEDED',
  Restricted: 'RESTRICTED',
  Unauthorized: 'UNAUTHORIZED',
  Internal: 'INTERNAL',
  Other: 'OTHER',
  PaymentFailed: 'PAYMENT_FAILED',
  NotFound: 'NOT_FOUND',
} as const;
export type Nip47ErrorCode = (typeof Nip47Error)[keyof typeof Nip47Error];

export type Encryption = 'nip44_v2' | 'nip04';

export interface NwcConnection {
  walletPubkey: string;
  relays: string[];
  secret: Uint8Array; // the client's private key: a spending credential, never logged
  clientPubkey: string;
}

export function connectionFrom(url: string): NwcConnection {
  const { walletPubkey, relays, secretHex } = parseNwcUrl(url);
  const secret = Uint8Array.from(Buffer.from(secretHex, 'hex'));
  return { walletPubkey, relays, secret, clientPubkey: getPublicKey(secret) };
}

// Encrypts and decrypts between one secret key and one peer, in the scheme chosen.
export class Nip47Cipher {
  private readonly conversationKey: Uint8Array;

  constructor(
    private readonly secret: Uint8Array,
    private readonly peer: string,
    readonly encryption: Encryption,
  ) {
    this.conversationKey = nip44.v2.utils.getConversationKey(secret, peer);
  }

  encrypt(text: string): string {
    return this.encryption === 'nip44_v2' ? nip44.v2.encrypt(text, this.conversationKey) : nip04.encrypt(this.secret, this.peer, text);
  }

  // A NIP-04 payload carries `?iv=`; anything else is NIP-44.
  decrypt(payload: string): string {
    return payload.includes('?iv=') ? nip04.decrypt(this.secret, this.peer, payload) : nip44.v2.decrypt(payload, this.conversationKey);
  }
}

export const utf8ToHex = (text: string) => Buffer.from(text, 'utf8').toString('hex');
export const hexToUtf8 = (hex: string) => Buffer.from(hex, 'hex').toString('utf8');
