import { readFileSync } from 'node:fs';
// @ts-expect-error plain JavaScript: it runs before dependencies (and types) are installed
import { nodeSupport } from '../../scripts/check-node.mjs';

describe('the Node version check of npm start and npm test', () => {
  it.each([
    ['24.15.0', 'supported'],
    ['24.11.1', 'too-old'],
    ['22.22.3', 'supported'],
    ['22.12.0', 'too-old'],
    ['26.1.0', 'supported'],
    ['20.19.0', 'end-of-life'],
    ['20.20.2', 'end-of-life'],
    ['20.18.3', 'too-old'],
    ['18.20.0', 'too-old'],
    ['23.0.0', 'too-old'],
  ])('Node %s is %s', (version, expected) => {
    expect(nodeSupport(version)).toBe(expected);
  });

  it('agrees with package.json engines', () => {
    expect(JSON.parse(readFileSync('package.json', 'utf8')).engines.node).toBe('^22.22.3 || ^24.15.0 || >=26.0.0');
  });
});
