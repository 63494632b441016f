import { isGlobalUnicast, ipLiteral } from './address.js';

describe('isGlobalUnicast (pure)', () => {
  it.each([
    '8.8.8.8',
    '93.184.216.34',
    '1.1.1.1',
    '2606:4700:4700::1111',
    '2a00:1450:4001:80b::200e',
    '[2606:4700:4700::1111]',
    // NAT64 and 6to4 of a public IPv4 address reach that address: allowed, as it would be itself.
    '64:ff9b::808:808',
    '64:ff9b::8.8.8.8',
    '2002:0808:0808::',
    '2002:808:808:1::1',
  ])('lets %s through', (address) => {
    expect(isGlobalUnicast(address)).toBe(true);
  });

  it.each([
    ['0.0.0.0', 'unspecified'],
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['192.168.1.1', 'private'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['100.64.0.1', 'CGNAT'],
    ['192.0.2.1', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fc00::1', 'unique local'],
    ['fd12:3456::1', 'unique local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local with a zone'],
    ['fec0::1', 'site-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:10.0.0.1', 'IPv4-mapped private'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:a00:1', 'IPv4-mapped private (hex)'],
    ['::ffff:169.254.169.254', 'IPv4-mapped link-local'],
    ['::10.0.0.1', 'IPv4-compatible (deprecated)'],
    ['64:ff9b::a00:1', 'NAT64 of 10.0.0.1'],
    ['64:ff9b::7f00:1', 'NAT64 of 127.0.0.1'],
    ['64:ff9b:1::808:808', 'local-use NAT64 prefix'],
    ['2002:0a00:0001::', '6to4 of 10.0.0.1'],
    ['2002:a9fe:a9fe::1', '6to4 of 169.254.169.254'],
    ['2001::1', 'Teredo'],
    ['2001:db8::1', 'documentation'],
    ['4000::1', 'outside 2000::/3'],
    ['localhost', 'not an address'],
    ['', 'empty'],
  ])('refuses %s (%s)', (address) => {
    expect(isGlobalUnicast(address)).toBe(false);
  });

  it('treats an IPv4-mapped public address as that IPv4 address', () => {
    expect(isGlobalUnicast('::ffff:8.8.8.8')).toBe(true);
  });
});

describe('ipLiteral (pure)', () => {
  it('finds IP addresses in URL hostnames, not names', () => {
    expect(ipLiteral('[::1]')).toBe('::1');
    expect(ipLiteral('10.0.0.5')).toBe('10.0.0.5');
    expect(ipLiteral('pods.example')).toBeUndefined();
  });
});
