import { testConfig } from '../../../../test/support/test-config.js';
import { resolutionFingerprint } from './fingerprint.js';

// Processes whose settings name the same servers agree on the fingerprint, so neither takes the other's routes
// for stale; servers that differ give another one.
describe('resolutionFingerprint', () => {
  const alby = (url: string, hosts = 'pods.test=http://127.0.0.1:7599') =>
    resolutionFingerprint(testConfig({ WALLET_BACKEND: 'alby', ALBY_API_URL: url, ALBY_ACCESS_TOKEN: 'token', LNADDRESS_HOST_MAP: hosts }));

  it('is the same for one server however its URL is spelt (trailing slash, case of scheme and host, default port)', () => {
    const base = alby('https://api.getalby.com/v2');
    expect(alby('https://api.getalby.com/v2/')).toBe(base);
    expect(alby('HTTPS://API.GetAlby.com:443/v2//')).toBe(base);
    expect(alby('https://api.getalby.com/v2', 'PODS.test=http://127.0.0.1:7599/')).toBe(base);
  });

  it('differs when the wallet server or a mapped host differs', () => {
    const base = alby('https://api.getalby.com/v2');
    expect(alby('https://api.getalby.com/v3')).not.toBe(base);
    expect(alby('https://other.example/v2')).not.toBe(base);
    expect(alby('https://api.getalby.com/v2', 'pods.test=http://127.0.0.1:7600')).not.toBe(base);
  });
});
