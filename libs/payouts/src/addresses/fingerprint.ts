import { createHash } from 'node:crypto';
import { type AppConfig, parseNwcUrl } from '@splitstream/config';

// What a Lightning-address resolution depends on besides the address: the wallet rail (WALLET_BACKEND and the
// wallet it reaches: ALBY_API_URL, or the NWC wallet's pubkey and relays, never its secret) and the host map
// (LNADDRESS_HOST_MAP, which sends domains to other servers). A route, failure or breaker stored under another
// fingerprint was learned from other servers: it is stale.
export function resolutionFingerprint(config: AppConfig): string {
  const nwc = config.WALLET_BACKEND === 'nwc' || config.WALLET_BACKEND === 'nwc-sim';
  const { walletPubkey, relays } = nwc && config.NWC_URL ? parseNwcUrl(config.NWC_URL) : { walletPubkey: null, relays: [] };
  const wallet = nwc ? { walletPubkey, relays: relays.map(sameServer).sort() } : { url: config.ALBY_API_URL && sameServer(config.ALBY_API_URL) };
  const hosts = [...(config.LNADDRESS_HOST_MAP ?? new Map<string, string>())]
    .map(([domain, url]) => [domain.toLowerCase(), sameServer(url)])
    .sort(([a], [b]) => (a! < b! ? -1 : 1));
  return createHash('sha256')
    .update(JSON.stringify({ rail: config.WALLET_BACKEND, wallet, hosts }))
    .digest('hex')
    .slice(0, 32);
}

// One spelling per server, so that processes configured with `https://Host/api/` and `https://host/api` agree:
// the URL parser lowercases the scheme and host and drops a default port; trailing slashes go too.
function sameServer(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, '')}${parsed.search}`;
  } catch {
    return url; // not a URL (a relay as NWC_URL wrote it): compared as written
  }
}
