import type { ValueBlockInput } from '../value-block.js';

// Deterministic, valid node pubkeys for tests: 02 followed by 64 hex digits derived from a number.
export const pubkey = (n: number): string => `02${n.toString(16).padStart(64, '0')}`;

type RecipientInput = ValueBlockInput['recipients'][number];

export const recipient = (n: number, split: number, extra: Partial<RecipientInput> = {}): RecipientInput => ({
  name: `R${n}`,
  type: 'node',
  address: pubkey(n),
  split,
  ...extra,
});

export const valueBlock = (recipients: RecipientInput[], extra: Partial<ValueBlockInput> = {}): ValueBlockInput => ({
  type: 'lightning',
  method: 'keysend',
  recipients,
  ...extra,
});
