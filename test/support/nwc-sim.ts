import { generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { nwcUrl } from '@splitstream/config';
import { startNwcSim } from '../../apps/nwc-sim/src/nwc-sim.js';

// The development NWC wallet (a real relay over WebSocket and the wallet service) in this process, on free
// ports, with a connection secret of its own; `overrides` point a stack at it.
export async function startNwc() {
  const clientSecret = Buffer.from(generateSecretKey()).toString('hex');
  const sim = await startNwcSim({
    host: '127.0.0.1',
    relayPort: 0,
    walletSecret: generateSecretKey(),
    clients: [getPublicKey(Uint8Array.from(Buffer.from(clientSecret, 'hex')))],
  });
  const relayUrl = sim.relay.url;
  const url = nwcUrl(sim.wallet.walletPubkey, [relayUrl], clientSecret);
  return {
    ...sim,
    clientSecret,
    url,
    overrides: { WALLET_BACKEND: 'nwc', NWC_URL: url, NWC_TIMEOUT_MS: '2000' },
    // The relay goes down (every connection cut) and comes back on the same port.
    async restartRelay(downMs: number) {
      await sim.relay.stop();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await sim.relay.start('127.0.0.1', Number(new URL(relayUrl).port));
    },
    async close() {
      await sim.wallet.stop();
      await sim.relay.stop();
      await sim.admin.close();
    },
  };
}

export type Nwc = Awaited<ReturnType<typeof startNwc>>;
