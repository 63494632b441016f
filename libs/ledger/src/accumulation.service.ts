import { createHash } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { type Allocation, recipientIdentity, splitListening, type ValueBlock } from '@splitstream/money';
import { inTransaction, PrismaService, SqlPool } from '@splitstream/persistence';
import type pg from 'pg';
import { passesOf } from './apply-passes.js';
import { type Accrual, accrue, allocate, balanceKey } from './books.js';
import type { ListeningPayload } from './listening-payload.js';

const SPLITS_BETWEEN_YIELDS = 25;

interface RecipientRow {
  address: string;
  customKey: string;
  customValue: string;
}

// What one app's latest event called a recipient.
interface AppRecipientName {
  recipient: string;
  appId: string;
  name: string;
}

interface AppEpisode {
  appId: string;
  payload: StoredPayload;
}

// A stored event as a pass reads it: the payload without its value block, which comes as text with whether it has
// time splits (a remembered split is found without parsing it), and its UTC day.
type StoredPayload = Omit<ListeningPayload, 'value'>;
interface StoredEvent {
  id: string;
  app_id: string;
  payload: StoredPayload;
  value: string;
  timed: boolean;
  amount_msat: string;
  day: string;
}

// One recipient's share of a remembered split, with what the pass needs of it worked out once.
interface SplitShare {
  amountMsat: bigint;
  identity: string;
  row: RecipientRow;
  name: string;
  remoteFeedGuid: string;
  remoteItemGuid: string;
}

// What an episode row keeps of its app's events, each field from the latest event that gave it.
const EPISODE_FIELDS = ['feedTitle', 'itemTitle', 'feedUrl', 'feedId', 'itemId'] as const;
type EpisodeFields = Pick<ListeningPayload, 'feedGuid' | 'itemGuid' | (typeof EPISODE_FIELDS)[number]>;

type PendingAccrual = Omit<Accrual, 'recipientId'> & { recipient: string };

const STATEMENT_TIMEOUT_MS = 60_000;
// The remembered splits are bounded by an estimate of their size (a key holds the value block's text, a split an
// entry per recipient), so distinct large blocks cannot outgrow the worker's heap limit.
const REMEMBERED_SPLIT_BYTES = 16 * 1024 * 1024;
const BYTES_PER_REMEMBERED_SHARE = 200;
// V8 hashes a string longer than this by its length alone: such a block is known by its digest instead, or blocks
// of one length would all share a hash bucket and each lookup compare them whole.
const LONGEST_HASHED_KEY = 16_000;
const byKey = <T>(entries: Map<string, T>) => [...entries.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
// Keys of the pass's maps, joined with NUL: no stored text holds one (PostgreSQL's text and jsonb refuse it).
const joined = (...parts: string[]) => parts.join('\u0000');
const shareOf = ({ recipient, amountMsat, remoteFeedGuid, remoteItemGuid }: Allocation): SplitShare => ({
  amountMsat,
  identity: recipientIdentity(recipient),
  row: { address: recipient.address, customKey: recipient.customKey ?? '', customValue: recipient.customValue ?? '' },
  name: recipient.name ?? '',
  remoteFeedGuid: remoteFeedGuid ?? '',
  remoteItemGuid: remoteItemGuid ?? '',
});

// Applies accepted listening events to the ledger: each event's exact split is accrued to its recipients, per
// episode, in one transaction per batch. An event is applied once: it is locked, applied and marked in that same
// transaction, so a retried job (or the sweep) can never count it twice.
@Injectable()
export class AccumulationService {
  private readonly logger = new Logger(AccumulationService.name);

  // Applying runs for every event, on `pg` directly: through Prisma, each element of the statements' arrays costs
  // several microseconds of the worker's CPU (the bench's drain measures it).
  constructor(
    private readonly prisma: PrismaService,
    private readonly pool: SqlPool,
  ) {}

  // Returns the ids it applied (not those applied before, set aside, waiting for their block, or locked by another
  // transaction).
  async applyEvents(eventIds: bigint[]): Promise<Set<bigint>> {
    const applied = new Set<bigint>();
    if (eventIds.length === 0) return applied;
    await inTransaction(
      this.pool,
      async (client) => {
        // An event sent by reference waits for its block (libs/feeds writes resolved_value) and is skipped until then.
        const { rows: locked } = await client.query<{ id: string; bytes: number }>(
          `SELECT id, pg_column_size(payload) + COALESCE(pg_column_size(resolved_value), 0) AS bytes FROM listening_event
           WHERE id = ANY($1::bigint[]) AND applied_at IS NULL AND (payload ? 'value' OR resolved_value IS NOT NULL)
           ORDER BY id FOR UPDATE SKIP LOCKED`,
          [eventIds.map(String)],
        );
        for (const pass of passesOf(locked)) {
          const ids = await this.applyPass(
            client,
            pass.map((e) => e.id),
          );
          for (const id of ids) applied.add(BigInt(id));
        }
      },
      { statementTimeoutMs: STATEMENT_TIMEOUT_MS },
    );
    return applied;
  }

  // One pass over events this transaction has locked: split, accrue, one allocation row per share, mark applied.
  private async applyPass(client: pg.ClientBase, ids: string[]): Promise<string[]> {
    const { rows: events } = await client.query<StoredEvent>(
      `SELECT e.id, e.app_id, e.payload - 'value' AS payload, b.block::text AS value, jsonb_array_length(b.block -> 'timeSplits') > 0 AS timed,
              e.amount_msat, to_char(e.received_at, 'YYYY-MM-DD') AS day
       FROM listening_event e, LATERAL (SELECT COALESCE(e.payload -> 'value', e.resolved_value) AS block) b
       WHERE e.id = ANY($1::bigint[]) ORDER BY e.id`,
      [ids],
    );

    const recipients = new Map<string, RecipientRow>();
    const names = new Map<string, AppRecipientName>();
    const pending = new Map<string, PendingAccrual>();
    const allocations: { eventId: string; accrual: PendingAccrual; amountMsat: bigint; day: string }[] = [];
    const applied: StoredEvent[] = [];
    const setAside: { id: string; error: string }[] = [];
    for (const [index, event] of events.entries()) {
      // A split of the largest block the rules allow costs about a millisecond: between every few the worker
      // answers its health checks and renews its job locks.
      if (index > 0 && index % SPLITS_BETWEEN_YIELDS === 0) await new Promise((resolve) => setImmediate(resolve));
      const { payload } = event;
      let split: readonly SplitShare[];
      try {
        split = this.splitOf(event);
      } catch (error) {
        setAside.push({ id: event.id, error: `cannot be split: ${(error as Error).message}` });
        continue;
      }
      applied.push(event);
      for (const share of split) {
        recipients.set(share.identity, share.row);
        const ofApp = joined(share.identity, event.app_id);
        names.set(ofApp, { recipient: share.identity, appId: event.app_id, name: share.name });
        const key = joined(ofApp, payload.feedGuid, payload.itemGuid, share.remoteFeedGuid, share.remoteItemGuid);
        let accrual = pending.get(key);
        if (!accrual) {
          accrual = {
            recipient: share.identity,
            appId: event.app_id,
            feedGuid: payload.feedGuid,
            itemGuid: payload.itemGuid,
            remoteFeedGuid: share.remoteFeedGuid,
            remoteItemGuid: share.remoteItemGuid,
            amountMsat: 0n,
            name: '',
            appName: '',
            appVersion: '',
            senderName: '',
            position: 0,
          };
          pending.set(key, accrual);
        }
        // Events come in id order: the latest event's metadata wins.
        accrual.amountMsat += share.amountMsat;
        accrual.name = share.name;
        accrual.appName = payload.appName ?? '';
        accrual.appVersion = payload.appVersion ?? '';
        accrual.senderName = payload.senderName ?? '';
        // Whole seconds: the bLIP-10 record's ts (what the balance keeps this for) is an integer.
        accrual.position = Math.floor(payload.position);
        allocations.push({ eventId: event.id, accrual, amountMsat: share.amountMsat, day: event.day });
      }
    }

    const recipientIds = await this.upsertRecipients(client, recipients);
    await this.upsertAppRecipients(client, names, recipientIds);
    await this.upsertEpisodes(
      client,
      applied.map((e) => ({ appId: e.app_id, payload: e.payload })),
    );
    const accruals = new Map<PendingAccrual, Accrual>();
    for (const accrual of pending.values()) {
      const { recipient, ...rest } = accrual;
      accruals.set(accrual, { ...rest, recipientId: recipientIds.get(recipient)! });
    }
    const balanceIds = await accrue(
      client,
      byKey(new Map([...accruals.values()].map((a) => [balanceKey(a), a]))).map(([, a]) => a),
    );
    const balanceOf = new Map(
      [...accruals].map(([pendingAccrual, accrual]) => [pendingAccrual, { balanceId: balanceIds.get(balanceKey(accrual))!, recipientId: accrual.recipientId }]),
    );
    await allocate(
      client,
      allocations.map(({ eventId, accrual, amountMsat, day }) => ({ eventId: BigInt(eventId), amountMsat, day, ...balanceOf.get(accrual)! })),
    );
    await client.query('UPDATE listening_event SET applied_at = now() WHERE id = ANY($1::bigint[])', [applied.map((e) => e.id)]);
    for (const { id, error } of setAside) this.logger.error({ eventId: id }, `event set aside, not applied: ${error}`);
    if (setAside.length > 0) {
      await client.query(`UPDATE listening_event e SET apply_error = d.error FROM unnest($1::bigint[], $2::text[]) AS d(id, error) WHERE e.id = d.id`, [
        setAside.map((a) => a.id),
        setAside.map((a) => a.error),
      ]);
    }
    return applied.map((e) => e.id);
  }

  // The same value block and amount come back in event after event (one episode, many listeners): the exact
  // split, pure and deterministic, is computed (and the block parsed) once per (amount, length, block, and the
  // position when the block has time splits: only then does the position change the split).
  private readonly splits = new Map<string, SplitShare[]>();
  private rememberedBytes = 0;

  private splitOf({ amount_msat, payload, value, timed }: StoredEvent): readonly SplitShare[] {
    const block = value.length > LONGEST_HASHED_KEY ? createHash('sha256').update(value).digest('base64') : value;
    const key = joined(amount_msat, String(payload.seconds), timed ? String(payload.position) : '', block);
    let split = this.splits.get(key);
    if (!split) {
      const parsed = JSON.parse(value) as ValueBlock;
      split = splitListening({ amountMsat: BigInt(amount_msat), position: payload.position, seconds: payload.seconds, value: parsed }).map(shareOf);
      const bytes = key.length + split.length * BYTES_PER_REMEMBERED_SHARE;
      if (this.rememberedBytes + bytes > REMEMBERED_SPLIT_BYTES) {
        this.splits.clear();
        this.rememberedBytes = 0;
      }
      this.splits.set(key, split);
      this.rememberedBytes += bytes;
    }
    return split;
  }

  // Sorted, so concurrent batches lock rows in the same order (no deadlocks). A recipient row is only its identity.
  private async upsertRecipients(client: pg.ClientBase, recipients: Map<string, RecipientRow>): Promise<Map<string, bigint>> {
    const rows = byKey(recipients).map(([, r]) => r);
    const { rows: upserted } = await client.query<{ id: string; address: string; custom_key: string; custom_value: string }>(
      `INSERT INTO recipient (address, custom_key, custom_value) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
       ON CONFLICT (address, custom_key, custom_value) DO UPDATE SET address = EXCLUDED.address
       RETURNING id, address, custom_key, custom_value`,
      [rows.map((r) => r.address), rows.map((r) => r.customKey), rows.map((r) => r.customValue)],
    );
    return new Map(
      upserted.map((row) => [
        recipientIdentity({ address: row.address, customKey: row.custom_key || undefined, customValue: row.custom_value || undefined }),
        BigInt(row.id),
      ]),
    );
  }

  // Each app's name for each recipient, the latest of that app's events; before the balances, which reference it.
  private async upsertAppRecipients(client: pg.ClientBase, names: Map<string, AppRecipientName>, recipientIds: Map<string, bigint>): Promise<void> {
    const rows = [...names.values()]
      .map((n) => ({ ...n, recipientId: recipientIds.get(n.recipient)! }))
      .sort((a, b) => (a.recipientId === b.recipientId ? (a.appId < b.appId ? -1 : 1) : a.recipientId < b.recipientId ? -1 : 1));
    await client.query(
      `INSERT INTO app_recipient (recipient_id, app_id, name) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[])
       ON CONFLICT (recipient_id, app_id) DO UPDATE SET name = EXCLUDED.name, updated_at = now()`,
      [rows.map((r) => String(r.recipientId)), rows.map((r) => r.appId), rows.map((r) => r.name)],
    );
  }

  // What each app's keysends will tell receivers about each episode: for each of the titles, url and ids, the latest
  // value that app's events gave (an event that leaves a field out keeps the one an earlier event gave).
  private async upsertEpisodes(client: pg.ClientBase, episodes: AppEpisode[]): Promise<void> {
    const merged = new Map<string, { appId: string; payload: EpisodeFields }>();
    for (const { appId, payload } of episodes) {
      const key = JSON.stringify([appId, payload.feedGuid, payload.itemGuid]);
      const known = merged.get(key)?.payload;
      const given = Object.fromEntries(EPISODE_FIELDS.flatMap((field) => (payload[field] === undefined ? [] : [[field, payload[field]]])));
      merged.set(key, { appId, payload: { ...known, ...given, feedGuid: payload.feedGuid, itemGuid: payload.itemGuid } });
    }
    const rows = byKey(merged).map(([, e]) => e);
    const payloads = rows.map((e) => e.payload);
    await client.query(
      `INSERT INTO episode (app_id, feed_guid, item_guid, feed_title, item_title, feed_url, feed_id, item_id)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[])
       ON CONFLICT (app_id, feed_guid, item_guid) DO UPDATE SET
         feed_title = COALESCE(NULLIF(EXCLUDED.feed_title, ''), episode.feed_title), item_title = COALESCE(NULLIF(EXCLUDED.item_title, ''), episode.item_title),
         feed_url = COALESCE(NULLIF(EXCLUDED.feed_url, ''), episode.feed_url), feed_id = COALESCE(EXCLUDED.feed_id, episode.feed_id),
         item_id = COALESCE(EXCLUDED.item_id, episode.item_id), updated_at = now()`,
      [
        rows.map((e) => e.appId),
        payloads.map((p) => p.feedGuid),
        payloads.map((p) => p.itemGuid),
        payloads.map((p) => p.feedTitle ?? ''),
        payloads.map((p) => p.itemTitle ?? ''),
        payloads.map((p) => p.feedUrl ?? ''),
        payloads.map((p) => (p.feedId === undefined ? null : String(p.feedId))),
        payloads.map((p) => (p.itemId === undefined ? null : String(p.itemId))),
      ],
    );
  }

  // Events stored but never applied (their job was lost, e.g. Redis was down): the oldest first.
  async unappliedEventIds(olderThanSeconds: number, limit: number): Promise<bigint[]> {
    const rows = await this.prisma.$queryRaw<{ id: bigint }[]>`
      SELECT id FROM listening_event
      WHERE applied_at IS NULL AND apply_error IS NULL AND received_at < now() - make_interval(secs => ${olderThanSeconds})
        AND (resolve_after IS NULL OR resolve_after <= now()) -- an event whose feed is backing off waits for it
      ORDER BY id LIMIT ${limit}`;
    return rows.map((r) => r.id);
  }
}
