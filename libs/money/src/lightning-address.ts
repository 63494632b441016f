// Lightning Addresses (LUD-16): `user@domain`, resolved over https at the domain's /.well-known/ paths.

export interface LightningAddress {
  user: string;
  domain: string;
}

// LUD-16: the name is a-z, 0-9, - _ . +; splitstream lowercases addresses first, so "Alice@Example.com" and
// "alice@example.com" are one recipient.
const USER = /^[a-z0-9\-_.+]{1,64}$/;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

// Why `text` (already lowercase) is not a Lightning Address splitstream pays, or undefined when it is. The domain
// must be a host name: an IP literal or a port would let a feed point the worker at any machine.
export function lightningAddressProblem(text: string): string | undefined {
  const at = text.lastIndexOf('@');
  if (at <= 0 || at !== text.indexOf('@')) return 'must be a Lightning Address: name@domain';
  const user = text.slice(0, at);
  const domain = text.slice(at + 1);
  if (!USER.test(user)) return 'the name before @ may hold only a-z, 0-9, -, _, . and + (LUD-16), at most 64 characters';
  if (domain.includes(':') || domain.startsWith('[')) return 'the domain must be a host name without a port';
  const labels = domain.split('.');
  if (domain.length > 253 || labels.length < 2 || !labels.every((l) => LABEL.test(l))) return 'the domain must be a host name such as example.com';
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return 'the domain must be a host name, not an IP address';
  return undefined;
}

export function parseLightningAddress(text: string): LightningAddress {
  const problem = lightningAddressProblem(text);
  if (problem) throw new RangeError(`${JSON.stringify(text)} ${problem}`);
  const [user, domain] = text.split('@') as [string, string];
  return { user, domain };
}

export const isLightningAddress = (text: string): boolean => lightningAddressProblem(text) === undefined;
