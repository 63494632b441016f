// A Nostr Wallet Connect connection string (NIP-47), checked without any cryptography so the configuration can
// refuse a bad one at boot: nostr+walletconnect://<wallet pubkey>?relay=<ws url>[&relay=...]&secret=<hex>.
// Messages never contain the secret.
export interface NwcUrlParts {
  walletPubkey: string;
  relays: string[];
  secretHex: string; // the client's private key: a spending credential, never logged
}

const HEX32 = /^[0-9a-f]{64}$/;

export function parseNwcUrl(text: string): NwcUrlParts {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error('is not a URL');
  }
  if (url.protocol !== 'nostr+walletconnect:') throw new Error('must start with nostr+walletconnect://');
  const walletPubkey = (url.hostname || url.pathname.replace(/^\/+/, '')).toLowerCase();
  if (!HEX32.test(walletPubkey)) throw new Error("must name the wallet's pubkey as 64 hex digits");
  const relays = url.searchParams.getAll('relay');
  if (relays.length === 0) throw new Error('needs at least one relay parameter');
  if (!relays.every((r) => /^wss?:\/\/\S+$/.test(r))) throw new Error('relay parameters must be ws:// or wss:// URLs');
  const secretHex = url.searchParams.get('secret')?.toLowerCase() ?? '';
  if (!HEX32.test(secretHex)) throw new Error('needs a secret of 64 hex digits');
  return { walletPubkey, relays, secretHex };
}

export const nwcUrl = (walletPubkey: string, relays: string[], secretHex: string): string =>
  `nostr+walletconnect://${walletPubkey}?${relays.map((r) => `relay=${encodeURIComponent(r)}`).join('&')}&secret=${secretHex}`;

// The development wallet (apps/nwc-sim) that `npm start` runs when WALLET_BACKEND=nwc has no NWC_URL: fixed,
// public keys, for local use only. They pay nothing real.
export const DEV_NWC = {
  walletSecretHex: '2b618ce461f888a039f0f76e0a17066dcec24f513cb47f1a51b940c270dad332',
  walletPubkey: 'e249b5a541db56f7a599ddad66dbee7f22e8a857ffc72fa7656b46822a969c1a',
  clientSecretHex: 'a1f100f27f32eb5052095011cf8e4bd7c3a58000d60e3bb981b98244ac5c566e',
  clientPubkey: '99121ac0abd911cc132fac58016da757a42dc60711d35d2d17faa693f18d0e0a',
} as const;
