import { createHash } from 'node:crypto';
import { z } from 'zod';
import { customKeyProblem, isNodePubkey, MAX_CUSTOM_VALUE_BYTES } from '@splitstream/money';

// How a Lightning Address is paid, as its domain answered: by keysend to a node (with the custom records its
// wallet needs), or by an LNURL-pay invoice within the amounts it accepts.
export interface KeysendRoute {
  kind: 'keysend';
  pubkey: string;
  customRecords: Record<string, string>;
}
export interface LnurlpRoute {
  kind: 'lnurlp';
  callback: string;
  minSendableMsat: bigint;
  maxSendableMsat: bigint;
  commentAllowed: number; // LUD-12: the longest comment the callback takes, 0 for none
  metadataHash: string; // sha256 of the metadata text: an invoice's description hash must equal it
}
export type AddressRoute = KeysendRoute | LnurlpRoute;

// Why resolving or paying an address failed: its recipient backs off, then parks, with this code and message.
// `message` is what apps read (the recipient's lastErrorMessage): the reason in words, never a transport error, an
// address or a server's answer. `detail` is for the worker's log and admins.
export class LnaddressError extends Error {
  override name = 'LnaddressError';
  readonly detail: string;
  constructor(
    readonly code: LnaddressFailure,
    message: string,
    detail?: string,
  ) {
    super(message);
    this.detail = detail ?? message;
  }
}

export const LnaddressFailure = {
  // The address's domain (or its LNURL-pay callback) could not be reached: DNS, connection, timeout, or a
  // destination the outbound guard refuses (not a global unicast address).
  Unreachable: 'lnaddress_unreachable',
  // The domain answered, but not with a usable way to pay the address (no such user, an answer splitstream cannot
  // use, too large, redirected to another origin, a callback it would never call).
  Refused: 'lnaddress_refused',
  // The callback gave no invoice, or one that does not match what was asked (amount, description hash, expiry).
  InvoiceRefused: 'invoice_refused',
} as const;
export type LnaddressFailure = (typeof LnaddressFailure)[keyof typeof LnaddressFailure];

const customDatum = z.object({
  customKey: z
    .string()
    .refine((k) => customKeyProblem(k) === undefined, { error: (i) => `customKey ${JSON.stringify(i.input)} ${customKeyProblem(String(i.input))}` }),
  customValue: z
    .string()
    .min(1)
    .refine((v) => Buffer.byteLength(v, 'utf8') <= MAX_CUSTOM_VALUE_BYTES, `customValue is over ${MAX_CUSTOM_VALUE_BYTES} bytes`),
});

const keysendAnswer = z.object({
  status: z.literal('OK').optional(),
  tag: z.literal('keysend'),
  pubkey: z
    .string()
    .transform((p) => p.toLowerCase())
    .refine(isNodePubkey, 'pubkey is not a node public key on secp256k1'),
  customData: z.array(customDatum).max(4).optional().default([]),
});

// The longest comment splitstream sends: an address allowing more (LUD-12 sets no maximum) is stored as allowing
// this many characters. A comment travels in the callback's query string, up to 12 bytes per character once
// percent-encoded: 500 keeps the request line under the 8 KB many servers accept (Node's own limit is 16 KB), and
// a bLIP-10 summary is shorter anyway unless its titles are very long.
export const MAX_COMMENT_CHARS = 500;

const msatAmount = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const payRequest = z
  .object({
    tag: z.literal('payRequest'),
    callback: z.string().refine(URL.canParse, 'callback is not a URL'),
    minSendable: msatAmount,
    maxSendable: msatAmount,
    metadata: z.string().refine((m) => {
      try {
        return Array.isArray(JSON.parse(m));
      } catch {
        return false;
      }
    }, 'metadata is not a JSON array (LUD-06)'),
    // LUD-12 sets no maximum: any length is accepted, and a comment is cut to what it allows (see MAX_COMMENT_CHARS).
    commentAllowed: z.number().int().min(0).optional().default(0),
  })
  .refine((p) => p.minSendable <= p.maxSendable, 'minSendable is above maxSendable');

const describe = (error: z.ZodError) => error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');

// The keysend endpoint's answer (`/.well-known/keysend/<user>`) as a route, or why it is not one.
export function keysendRoute(body: unknown): KeysendRoute | string {
  const parsed = keysendAnswer.safeParse(body);
  if (!parsed.success) return `the keysend endpoint's answer is not usable: ${describe(parsed.error)}`;
  const customRecords = Object.fromEntries(parsed.data.customData.map((d) => [BigInt(d.customKey).toString(), d.customValue]));
  return { kind: 'keysend', pubkey: parsed.data.pubkey, customRecords };
}

// The LNURL-pay endpoint's answer (`/.well-known/lnurlp/<user>`, LUD-06/LUD-16) as a route, or why not.
export function payRequestRoute(body: unknown): LnurlpRoute | string {
  const parsed = payRequest.safeParse(body);
  if (!parsed.success) return `the LNURL-pay answer is not usable: ${describe(parsed.error)}`;
  const p = parsed.data;
  return {
    kind: 'lnurlp',
    callback: p.callback,
    minSendableMsat: BigInt(p.minSendable),
    maxSendableMsat: BigInt(p.maxSendable),
    commentAllowed: Math.min(p.commentAllowed, MAX_COMMENT_CHARS),
    metadataHash: createHash('sha256').update(p.metadata, 'utf8').digest('hex'),
  };
}
