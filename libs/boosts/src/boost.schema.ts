import { z } from 'zod';
import { appsOwnId, episodeFields, feedUrlProblem, listenerIdSchema } from '@splitstream/ingestion';
import {
  BLIP10_MAX_BYTES,
  customKeyProblem,
  isLightningAddress,
  isNodePubkey,
  minimalBlip10Bytes,
  strictObject,
  type ValueBlock,
  valueBlockSchema,
} from '@splitstream/money';

export const MAX_BOOST_MESSAGE_CHARACTERS = 1_000;

// One boost as apps send it (README: POST /v1/boosts): the listening event's identifiers and value block, an
// amount in whole sats instead of a rate and a duration, and the boost's message and reply address. A block given
// by reference is checked with its remote items' GUIDs when it is found (a boost whose record could not fit then is
// set aside with the reason, never cut).
export const boostSchema = strictObject(
  {
    id: appsOwnId('boost-2026-12-03-0001'),
    ...episodeFields,
    amountSats: z
      .number({ error: 'must be a whole number of sats from 1 to 100000000' })
      .int('must be a whole number of sats from 1 to 100000000')
      .min(1, 'must be a whole number of sats from 1 to 100000000')
      .max(100_000_000, 'must be a whole number of sats from 1 to 100000000'),
    message: z
      .string({ error: 'is required: the boostagram text' })
      .min(1, 'is required: the boostagram text')
      .max(MAX_BOOST_MESSAGE_CHARACTERS, `must be at most ${MAX_BOOST_MESSAGE_CHARACTERS} characters`),
    senderName: z.string().max(256, 'must be at most 256 characters').optional(),
    appName: z.string().max(256, 'must be at most 256 characters').optional(),
    appVersion: z.string().max(64, 'must be at most 64 characters').optional(),
    listenerId: listenerIdSchema.optional(),
    replyAddress: z
      .string()
      .refine((a) => isNodePubkey(a) || isLightningAddress(a), 'must be a node id (66 hex characters) or a Lightning Address')
      .optional(),
    replyCustomKey: z
      .string()
      .refine((k) => customKeyProblem(k) === undefined, { error: (issue) => customKeyProblem(String(issue.input)) ?? 'is invalid' })
      .optional(),
    replyCustomValue: z.string().min(1).max(256, 'must be at most 256 characters').optional(),
    // Left out, the worker finds the block itself, as for an event (README: value blocks by reference).
    value: valueBlockSchema.optional(),
  },
  { error: 'the body must be a JSON object: a boost' },
).superRefine((boost, ctx) => {
  if ((boost.replyCustomKey === undefined) !== (boost.replyCustomValue === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['replyCustomValue'], message: 'replyCustomKey and replyCustomValue come together' });
  }
  const feedUrlIssue = boost.value === undefined && typeof boost.feedUrl === 'string' ? feedUrlProblem(boost.feedUrl) : undefined;
  if (feedUrlIssue) ctx.addIssue({ code: 'custom', path: ['feedUrl'], message: feedUrlIssue });
  if (typeof boost.message !== 'string' || (boost.value !== undefined && !Array.isArray(boost.value.timeSplits))) return;
  // Every payment of the boost carries the message, the sender and the reply whole: a boost whose record could
  // not fit with them is refused here, never cut.
  const largest = largestBoostRecord(boost, boost.value ?? { timeSplits: [] });
  if (largest > BLIP10_MAX_BYTES) {
    ctx.addIssue({
      code: 'custom',
      path: ['message'],
      message: `too long: with the boost's required fields (guids, sender, reply, amounts, uuids) every payment's bLIP-10 record would be ${largest} bytes; the record holds at most ${BLIP10_MAX_BYTES} bytes, so shorten the message by at least ${largest - BLIP10_MAX_BYTES} bytes (it is never cut)`,
    });
  }
});

export type BoostRequest = z.output<typeof boostSchema>;

type BoostRecordFields = Pick<BoostRequest, 'feedGuid' | 'itemGuid' | 'message' | 'senderName' | 'replyAddress' | 'replyCustomKey' | 'replyCustomValue'>;

// The largest bLIP-10 record (bytes) a payment of this boost carries with this block: the boost's own fields and,
// for a time split's recipients, its remote item's GUIDs. Judged at the request, and for a block found by reference
// when it is found.
export function largestBoostRecord(boost: BoostRecordFields, value: Pick<ValueBlock, 'timeSplits'>): number {
  return Math.max(
    ...[{}, ...value.timeSplits.map((s) => ({ remoteFeedGuid: s.remoteFeedGuid, remoteItemGuid: s.remoteItemGuid }))].map((remote) =>
      minimalBlip10Bytes({
        feedGuid: boost.feedGuid,
        itemGuid: boost.itemGuid,
        ...remote,
        boost: {
          message: boost.message,
          ...(boost.senderName !== undefined && { senderName: boost.senderName }),
          ...(boost.replyAddress !== undefined && { replyAddress: boost.replyAddress }),
          ...(boost.replyCustomKey !== undefined && { replyCustomKey: boost.replyCustomKey, replyCustomValue: boost.replyCustomValue }),
        },
      }),
    ),
  );
}
