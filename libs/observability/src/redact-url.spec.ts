import { redactUrl } from './logging.module.js';

const key = `ss_${'A1b2-_'.repeat(7)}x`;

describe('redactUrl', () => {
  it.each([
    [`/v1/summary?key=${key}`, '/v1/summary?key=[redacted]'],
    [`/v1/summary?x=${key}&limit=2`, '/v1/summary?x=[redacted]&limit=2'],
    ['/health?access_token=abc&api_key=def', '/health?access_token=[redacted]&api_key=[redacted]'],
  ])('cuts the credential from %s', (url, logged) => {
    expect(redactUrl(url)).toBe(logged);
  });

  it.each(['/v1/recipients?address=02ab&customKey=696969&customValue=w', '/v1/events/class_x', '/v1/payouts?limit=20&before=12'])(
    'leaves %s as it is',
    (url) => {
      expect(redactUrl(url)).toBe(url);
    },
  );
});
