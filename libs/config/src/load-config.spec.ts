import { ConfigError, parseConfig } from './load-config.js';

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
});
