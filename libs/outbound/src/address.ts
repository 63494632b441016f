import ipaddr from 'ipaddr.js';

// Whether an outbound call may connect to `address` (an IP address as text): only global unicast destinations.
//  - IPv4: ipaddr.js's `unicast` range only (no private, loopback, link-local, CGNAT, reserved, multicast, ...).
//  - IPv4-mapped IPv6 (::ffff:a.b.c.d) is normalised to its IPv4 address and judged as that.
//  - IPv6: inside 2000::/3 (the global unicast space) and in ipaddr.js's `unicast` range, so no loopback,
//    unique-local fc00::/7, link-local fe80::/10, site-local fec0::/10, documentation, Teredo, ORCHID, ...
//  - NAT64 64:ff9b::/96 and 6to4 2002::/16 carry an IPv4 address: allowed only when that embedded address is itself
//    global unicast (64:ff9b::808:808 and 2002:808:808:: reach 8.8.8.8, which anyone may; 64:ff9b::a00:1 and
//    2002:a00:1:: reach 10.0.0.1 and are refused). The local-use NAT64 prefix 64:ff9b:1::/48 is refused.
//  - Anything that is not an IP address (or carries a zone id) is refused.
export function isGlobalUnicast(address: string): boolean {
  const text = address.replace(/^\[|\]$/g, '');
  if (text.includes('%') || !ipaddr.isValid(text)) return false;
  const parsed = ipaddr.process(text);
  if (parsed.kind() === 'ipv4') return parsed.range() === 'unicast';
  const v6 = parsed as ipaddr.IPv6;
  const range = v6.range();
  if (range === 'rfc6052' && v6.match(NAT64, 96)) return embeddedIsGlobal(v6.toByteArray().slice(12, 16));
  if (range === '6to4') return embeddedIsGlobal(v6.toByteArray().slice(2, 6));
  return range === 'unicast' && v6.match(GLOBAL_UNICAST_V6, 3);
}

const NAT64 = ipaddr.IPv6.parse('64:ff9b::');
const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parse('2000::');

function embeddedIsGlobal(bytes: number[]): boolean {
  return new ipaddr.IPv4(bytes).range() === 'unicast';
}

// `address` if it is an IP address (URL hostnames put IPv6 in brackets), else undefined.
export function ipLiteral(hostname: string): string | undefined {
  const text = hostname.replace(/^\[|\]$/g, '');
  return ipaddr.isValid(text) ? text : undefined;
}
