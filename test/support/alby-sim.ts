import { createSimServer } from '../../apps/alby-sim/src/sim-server.js';
import type { DestinationRule, Payment, SimSettings } from '../../apps/alby-sim/src/simulator.js';
import type { IssuedLnaddressInvoice, LnaddressUser } from '@splitstream/lightning-sim';

export const SIM_TOKEN = 'test-simulator-token';

// The Alby simulator on a free port, driven over real HTTP through its admin routes.
export async function startSimulator(settings: Partial<SimSettings> = {}) {
  const { app } = createSimServer({ accessToken: SIM_TOKEN });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
  const admin = async (method: string, path: string, body?: unknown): Promise<any> => {
    const response = await fetch(`${url}/admin${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`sim admin ${method} ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  const sim = {
    url,
    token: SIM_TOKEN,
    configure: (changes: Partial<SimSettings>) => admin('PATCH', '/settings', changes),
    settings: () => admin('GET', '/settings') as Promise<SimSettings>,
    setRule: (destination: string, rule: DestinationRule) => admin('PUT', `/destinations/${destination}`, rule),
    clearRule: (destination: string) => admin('DELETE', `/destinations/${destination}`),
    payments: async () => (await admin('GET', '/payments')).payments as SimPayment[],
    attempts: async () => (await admin('GET', '/attempts')).attempts as { destination: string; outcome: string; amount: number }[],
    reset: () => admin('POST', '/reset'),
    // The Lightning-address host it also is (point a domain at `url` with LNADDRESS_HOST_MAP).
    lnaddress: {
      setUser: (user: string, config: LnaddressUser) => admin('PUT', `/lnaddress/users/${user}`, config),
      requests: async () => (await admin('GET', '/lnaddress/requests')).requests as { path: string; at: string }[],
      invoices: async () => (await admin('GET', '/lnaddress/invoices')).invoices as IssuedLnaddressInvoice[],
    },
    close: () => app.close(),
  };
  // Tests are not about the rate limit unless they say so.
  await sim.configure({ rateLimitPerSecond: 1_000, rateLimitBurst: 1_000, ...settings });
  return sim;
}

export type Sim = Awaited<ReturnType<typeof startSimulator>>;

// A payment as the admin route answers it (JSON): dates as text, the bLIP-10 record parsed.
export type SimPayment = Omit<Payment, 'createdAt'> & { createdAt: string; blip10: Record<string, any> | null };
