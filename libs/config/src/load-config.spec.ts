import { isSimulatedWallet, nwcTarget, walletTarget } from './config.schema.js';
import { ConfigError, parseConfig, toEnvironment } from './load-config.js';
import { DEV_NWC, parseNwcUrl } from './nwc-url.js';
import { parseSimulatorConfig } from './simulator-config.js';

// Production as it must be configured: with a real wallet named.
const PRODUCTION = { NODE_ENV: 'production', WALLET_BACKEND: 'alby', ALBY_ACCESS_TOKEN: 'token-123' };

describe('parseConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/splitstream',
      REDIS_URL: 'redis://127.0.0.1:6379/0',
      API_PORT: 3000,
      WORKER_PORT: 3001,
    });
  });

  it('treats an empty variable as unset', () => {
    expect(parseConfig({ API_PORT: '' }).API_PORT).toBe(3000);
  });

  it('coerces numbers', () => {
    expect(parseConfig({ API_PORT: '8080' }).API_PORT).toBe(8080);
  });

  it.each([
    ['API_PORT', '70000'],
    ['API_PORT', '3.5'],
    ['DATABASE_URL', 'mysql://localhost/db'],
    ['REDIS_URL', 'not a url'],
    ['QUEUE_PREFIX', 'has spaces'],
    ['LOG_LEVEL', 'verbose'],
    ['PODCAST_INDEX_API_URL', 'ftp://index.example'],
    ['PODCAST_INDEX_API_KEY', 'KEY-WITHOUT-ITS-SECRET'],
    ['PODCAST_INDEX_API_SECRET', 'secret-without-its-key'],
    ['FEED_TIMEOUT_MS', '120000'],
    ['FEED_RETRY_MAX_SECONDS', '1'], // below the default base of 60
  ])('rejects %s=%s naming the variable', (name, value) => {
    expect(() => parseConfig({ [name]: value })).toThrow(ConfigError);
    try {
      parseConfig({ [name]: value });
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([expect.stringMatching(new RegExp(`^${name}: `))]);
    }
  });

  it('lists every bad variable at once', () => {
    expect(() => parseConfig({ API_PORT: 'x', WORKER_PORT: 'y' })).toThrow(/API_PORT[\s\S]*WORKER_PORT/);
  });

  it('gives back an environment that parses to the same configuration (for starting other processes)', () => {
    const config = parseConfig({ API_PORT: '8080', LNADDRESS_HOST_MAP: 'a.test=http://127.0.0.1:1,b.test=http://127.0.0.1:2' });
    expect(parseConfig(toEnvironment(config))).toEqual(config);
    expect(toEnvironment(config).LNADDRESS_HOST_MAP).toBe('a.test=http://127.0.0.1:1,b.test=http://127.0.0.1:2');
  });

  describe('RECONCILE_ABSENT_AFTER_SECONDS against INVOICE_MAX_CLTV_EXPIRY_BLOCKS', () => {
    it('defaults to 15 days, outlasting the default bound of 144 blocks (a day)', () => {
      expect(parseConfig({})).toMatchObject({ RECONCILE_ABSENT_AFTER_SECONDS: 15 * 24 * 3600, INVOICE_MAX_CLTV_EXPIRY_BLOCKS: 144 });
    });

    it.each([
      ['the default bound (144 blocks x 600 s)', {}, 86_400],
      ['a smaller bound (5 blocks)', { INVOICE_MAX_CLTV_EXPIRY_BLOCKS: '5' }, 3_000],
      ['the largest bound (2016 blocks)', { INVOICE_MAX_CLTV_EXPIRY_BLOCKS: '2016' }, 1_209_600],
    ])('refuses a wait no longer than %s, naming both settings', (_what, bound: Record<string, string>, seconds) => {
      for (const wait of [seconds, seconds - 1]) {
        try {
          parseConfig({ ...bound, RECONCILE_ABSENT_AFTER_SECONDS: String(wait) });
          throw new Error(`accepted ${wait}`);
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          expect((error as ConfigError).problems).toEqual([
            `RECONCILE_ABSENT_AFTER_SECONDS: must be longer than INVOICE_MAX_CLTV_EXPIRY_BLOCKS x 600 s (${seconds} s): a payee may hold a payment that long`,
          ]);
        }
      }
    });

    it.each([
      ['the default bound', {}, 86_401],
      ['a smaller bound (5 blocks)', { INVOICE_MAX_CLTV_EXPIRY_BLOCKS: '5' }, 3_600],
      ['the largest bound (2016 blocks)', { INVOICE_MAX_CLTV_EXPIRY_BLOCKS: '2016' }, 1_209_601],
    ])('accepts a wait longer than %s', (_what, bound: Record<string, string>, seconds) => {
      expect(parseConfig({ ...bound, RECONCILE_ABSENT_AFTER_SECONDS: String(seconds) }).RECONCILE_ABSENT_AFTER_SECONDS).toBe(seconds);
    });

    it('refuses the old default of a day with the default bound, and a bound above 2016 blocks', () => {
      expect(() => parseConfig({ RECONCILE_ABSENT_AFTER_SECONDS: '86400' })).toThrow(/RECONCILE_ABSENT_AFTER_SECONDS: .*INVOICE_MAX_CLTV_EXPIRY_BLOCKS/);
      expect(() => parseConfig({ INVOICE_MAX_CLTV_EXPIRY_BLOCKS: '2017' })).toThrow(/^Invalid configuration:\n  - INVOICE_MAX_CLTV_EXPIRY_BLOCKS: /);
    });
  });

  describe('LNADDRESS_HOST_MAP', () => {
    it('maps domains (any case) to local base URLs', () => {
      const map = parseConfig({ LNADDRESS_HOST_MAP: 'Example.com=http://127.0.0.1:7500/, pod.test=https://localhost:8443' }).LNADDRESS_HOST_MAP;
      expect([...map!]).toEqual([
        ['example.com', 'http://127.0.0.1:7500'],
        ['pod.test', 'https://localhost:8443'],
      ]);
    });

    it.each(['example.com', 'example.com=ftp://127.0.0.1', '=http://127.0.0.1:7500'])('refuses the entry %j', (value) => {
      expect(() => parseConfig({ LNADDRESS_HOST_MAP: value })).toThrow(/LNADDRESS_HOST_MAP: entry .* must be domain=http\(s\):\/\/host:port/);
    });

    it('is refused in production, where every address is resolved over https', () => {
      expect(() => parseConfig({ NODE_ENV: 'production', LNADDRESS_HOST_MAP: 'example.com=http://127.0.0.1:7500' })).toThrow(
        'LNADDRESS_HOST_MAP: is for tests and local runs only and is refused when NODE_ENV=production',
      );
      expect(parseConfig({ ...PRODUCTION }).LNADDRESS_HOST_MAP).toBeUndefined();
    });
  });

  describe('NODE_ENV and OUTBOUND_ALLOW_PRIVATE', () => {
    it('accepts only known NODE_ENV values (development by default)', () => {
      expect(parseConfig({}).NODE_ENV).toBe('development');
      for (const value of ['development', 'test', 'production']) expect(parseConfig({ ...PRODUCTION, NODE_ENV: value }).NODE_ENV).toBe(value);
      for (const value of ['Production', 'prod', 'staging']) expect(() => parseConfig({ NODE_ENV: value })).toThrow(/NODE_ENV: /);
    });

    it('keeps the outbound guard on by default; true opens it for tests and local runs, refused in production', () => {
      expect(parseConfig({}).OUTBOUND_ALLOW_PRIVATE).toBe(false);
      expect(parseConfig({ OUTBOUND_ALLOW_PRIVATE: 'true' }).OUTBOUND_ALLOW_PRIVATE).toBe(true);
      expect(parseConfig({ OUTBOUND_ALLOW_PRIVATE: 'false' }).OUTBOUND_ALLOW_PRIVATE).toBe(false);
      expect(() => parseConfig({ OUTBOUND_ALLOW_PRIVATE: 'yes' })).toThrow('OUTBOUND_ALLOW_PRIVATE: must be true or false');
      expect(() => parseConfig({ NODE_ENV: 'production', OUTBOUND_ALLOW_PRIVATE: 'true' })).toThrow(
        'OUTBOUND_ALLOW_PRIVATE: is for tests and local runs only and is refused when NODE_ENV=production',
      );
      expect(toEnvironment(parseConfig({ OUTBOUND_ALLOW_PRIVATE: 'true' })).OUTBOUND_ALLOW_PRIVATE).toBe('true');
    });

    it('refuses NODE_ENV=Production with a host map to a private address (issue 21)', () => {
      expect(() => parseConfig({ NODE_ENV: 'Production', LNADDRESS_HOST_MAP: 'getalby.com=http://10.0.0.5:80' })).toThrow(/NODE_ENV: /);
    });
  });

  describe('NWC_URL', () => {
    const pubkey = 'ab'.repeat(32);
    const secret = 'cd'.repeat(32);
    it('accepts a connection string with several relays', () => {
      const url = `nostr+walletconnect://${pubkey}?relay=wss%3A%2F%2Frelay.getalby.com%2Fv1&relay=wss://nos.lol&secret=${secret}`;
      expect(parseConfig({ WALLET_BACKEND: 'nwc', NWC_URL: url })).toMatchObject({ WALLET_BACKEND: 'nwc', NWC_URL: url, NWC_TIMEOUT_MS: 30_000 });
    });

    it.each([
      ['https://example.com', 'must start with nostr+walletconnect://'],
      [`nostr+walletconnect://${pubkey}?secret=${secret}`, 'needs at least one relay parameter'],
      [`nostr+walletconnect://${pubkey}?relay=https://x&secret=${secret}`, 'relay parameters must be ws:// or wss:// URLs'],
      [`nostr+walletconnect://abc?relay=wss://x&secret=${secret}`, "must name the wallet's pubkey as 64 hex digits"],
      [`nostr+walletconnect://${pubkey}?relay=wss://x&secret=${secret.slice(2)}`, 'needs a secret of 64 hex digits'],
    ])('refuses %s, saying why, never echoing the secret', (url, why) => {
      try {
        parseConfig({ NWC_URL: url });
        throw new Error('accepted');
      } catch (error) {
        const problems = (error as ConfigError).problems;
        expect(problems).toEqual([`NWC_URL: must be a nostr+walletconnect:// connection string: it ${why}`]);
        expect(problems.join(' ')).not.toContain(secret.slice(4));
      }
    });
  });
});

describe('WALLET_BACKEND: the wallet is named explicitly', () => {
  it('defaults to the Alby simulator outside production, so npm start needs no setting', () => {
    expect(parseConfig({})).toMatchObject({ WALLET_BACKEND: 'alby-sim' });
    expect(isSimulatedWallet(parseConfig({}))).toBe(true);
    expect(walletTarget(parseConfig({}))).toMatchObject({ url: 'http://127.0.0.1:3002', simulated: true });
  });

  it('refuses a simulator in production, and, for a process that pays, a real rail without its credentials', () => {
    expect(() => parseConfig({ NODE_ENV: 'production' })).toThrow(/WALLET_BACKEND: alby-sim is a simulator/);
    expect(() => parseConfig({ NODE_ENV: 'production', WALLET_BACKEND: 'nwc-sim' })).toThrow(/WALLET_BACKEND: nwc-sim is a simulator/);
    expect(() => parseConfig({ WALLET_BACKEND: 'alby' }, { pays: true })).toThrow(/ALBY_ACCESS_TOKEN: is required with WALLET_BACKEND=alby/);
    expect(() => parseConfig({ WALLET_BACKEND: 'nwc' }, { pays: true })).toThrow(/NWC_URL: is required with WALLET_BACKEND=nwc/);
    expect(() => parseConfig({ WALLET_BACKEND: 'lnd' })).toThrow(/WALLET_BACKEND/);
    // The api pays nothing and holds no wallet credentials: it needs none.
    expect(parseConfig({ NODE_ENV: 'production', WALLET_BACKEND: 'alby' })).toMatchObject({ WALLET_BACKEND: 'alby', ALBY_ACCESS_TOKEN: undefined });
    expect(parseConfig({ NODE_ENV: 'production', WALLET_BACKEND: 'nwc' })).toMatchObject({ WALLET_BACKEND: 'nwc', NWC_URL: undefined });
  });

  it('pays the configured wallet, never the simulator, once a real rail is named', () => {
    const alby = parseConfig({ NODE_ENV: 'production', WALLET_BACKEND: 'alby', ALBY_ACCESS_TOKEN: 'token-123' });
    expect(walletTarget(alby)).toEqual({ url: 'https://api.getalby.com', token: 'token-123', simulated: false });
    expect(isSimulatedWallet(alby)).toBe(false);
  });
});

describe('simulator settings: the simulators have their own, the service none', () => {
  const SIM_KEYS = ['SIM_HOST', 'SIM_PORT', 'SIM_ACCESS_TOKEN', 'NWC_SIM_PORT', 'NWC_SIM_ADMIN_PORT'];

  it('the service configuration carries no simulator setting', () => {
    for (const env of [{}, { WALLET_BACKEND: 'nwc-sim' }, PRODUCTION]) {
      const keys = Object.keys(parseConfig(env));
      for (const key of SIM_KEYS) expect(keys).not.toContain(key);
      for (const key of SIM_KEYS) expect(Object.keys(toEnvironment(parseConfig(env)))).not.toContain(key);
    }
    // Set anyway (a shared .env), they change nothing.
    expect(parseConfig({ SIM_PORT: '4444', SIM_ACCESS_TOKEN: 'another-token' })).toEqual(parseConfig({}));
  });

  it('alby-sim pays ALBY_API_URL with ALBY_ACCESS_TOKEN, defaulting to the simulator at its defaults, marked simulated', () => {
    expect(parseConfig({})).toMatchObject({ ALBY_API_URL: 'http://127.0.0.1:3002', ALBY_ACCESS_TOKEN: 'simulator-access-token' });
    expect(walletTarget(parseConfig({}))).toEqual({ url: 'http://127.0.0.1:3002', token: 'simulator-access-token', simulated: true });
    const elsewhere = parseConfig({ WALLET_BACKEND: 'alby-sim', ALBY_API_URL: 'http://127.0.0.1:4002', ALBY_ACCESS_TOKEN: 'sim-token-4' });
    expect(walletTarget(elsewhere)).toEqual({ url: 'http://127.0.0.1:4002', token: 'sim-token-4', simulated: true });
    const config = parseConfig({});
    expect(parseConfig(toEnvironment(config))).toEqual(config);
  });

  it('alby keeps the Alby Wallet API as its default URL and needs its token', () => {
    expect(parseConfig(PRODUCTION).ALBY_API_URL).toBe('https://api.getalby.com');
    expect(parseConfig({ WALLET_BACKEND: 'nwc-sim' })).toMatchObject({ ALBY_API_URL: 'https://api.getalby.com', ALBY_ACCESS_TOKEN: undefined });
  });

  it('nwc-sim pays NWC_URL, defaulting to the development wallet at ws://127.0.0.1:3003, marked simulated', () => {
    const target = nwcTarget(parseConfig({ WALLET_BACKEND: 'nwc-sim' }));
    expect(target.simulated).toBe(true);
    expect(parseNwcUrl(target.url)).toEqual({ walletPubkey: DEV_NWC.walletPubkey, relays: ['ws://127.0.0.1:3003'], secretHex: DEV_NWC.clientSecretHex });
    const url = `nostr+walletconnect://${DEV_NWC.walletPubkey}?relay=ws%3A%2F%2F127.0.0.1%3A4003&secret=${DEV_NWC.clientSecretHex}`;
    expect(nwcTarget(parseConfig({ WALLET_BACKEND: 'nwc-sim', NWC_URL: url }))).toEqual({ url, simulated: true });
    expect(nwcTarget(parseConfig({ WALLET_BACKEND: 'nwc', NWC_URL: url }))).toEqual({ url, simulated: false });
    expect(parseConfig({}).NWC_URL).toBeUndefined();
  });

  it('the simulator configuration parses its own defaults, and refuses bad values', () => {
    expect(parseSimulatorConfig({})).toEqual({
      SIM_HOST: '127.0.0.1',
      SIM_PORT: 3002,
      SIM_ACCESS_TOKEN: 'simulator-access-token',
      NWC_SIM_PORT: 3003,
      NWC_SIM_ADMIN_PORT: 3004,
    });
    expect(parseSimulatorConfig({ SIM_PORT: '4002', SIM_ACCESS_TOKEN: '', API_PORT: '1' })).toMatchObject({
      SIM_PORT: 4002,
      SIM_ACCESS_TOKEN: 'simulator-access-token',
    });
    expect(Object.keys(parseSimulatorConfig({ API_PORT: '1' }))).toEqual(SIM_KEYS);
    expect(() => parseSimulatorConfig({ SIM_PORT: '70000' })).toThrow(/SIM_PORT/);
    expect(() => parseSimulatorConfig({ SIM_ACCESS_TOKEN: 'short' })).toThrow(/SIM_ACCESS_TOKEN/);
  });
});
