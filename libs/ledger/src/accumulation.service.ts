import { Injectable, Logger } from '@nestjs/common';
import { type Allocation, recipientIdentity, splitListening, type ValueBlock } from '@splitstream/money';
import { Prisma, PrismaService } from '@splitstream/persistence';
import { passesOf } from './apply-passes.js';
import { type Accrual, accrue, allocate, balanceKey, utcDayOf } from './books.js';
import type { ListeningPayload } from './listening-payload.js';

const SPLITS_BETWEEN_YIELDS = 25;

type Tx = Prisma.TransactionClient;

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
  payload: ListeningPayload;
}

// What an episode row keeps of its app's events, each field from the latest event that gave it.
const EPISODE_FIELDS = ['feedTitle', 'itemTitle', 'feedUrl', 'feedId', 'itemId'] as const;
type EpisodeFields = Pick<ListeningPayload, 'feedGuid' | 'itemGuid' | (typeof EPISODE_FIELDS)[number]>;

type PendingAccrual = Omit<Accrual, 'recipientId'> & { recipient: string };

const TRANSACTION_TIMEOUT_MS = 60_000;
// The remembered splits are bounded by an estimate of their size (a key holds the whole value block, a split an
// entry per recipient), so distinct large blocks cannot outgrow the worker's heap limit.
const REMEMBERED_SPLIT_BYTES = 16 * 1024 * 1024;
const BYTES_PER_REMEMBERED_SHARE = 200;
const byKey = <T>(entries: Map<string, T>) => [...entries.entries()].sort(([a], [b]) => (a < b ? -1 : 1));

// Applies accepted listening events to the ledger: each event's exact split is accrued to its recipients, per
// episode, in one transaction per batch. An event is applied once: it is locked, applied and marked in that same
// transaction, so a retried job (or the sweep) can never count it twice.
@Injectable()
export class AccumulationService {
  private readonly logger = new Logger(AccumulationService.name);

  constructor(private readonly prisma: PrismaService) {}

  async applyEvents(eventIds: bigint[]): Promise<number> {
    if (eventIds.length === 0) return 0;
    return this.prisma.$transaction(
      async (tx) => {
        // An event sent by reference waits for its block (libs/feeds writes resolved_value) and is skipped until then.
        const locked = await tx.$queryRaw<{ id: bigint; bytes: number }[]>`
          SELECT id, pg_column_size(payload) + COALESCE(pg_column_size(resolved_value), 0) AS bytes FROM listening_event
          WHERE id = ANY(${eventIds.map(String)}::bigint[]) AND applied_at IS NULL AND (payload ? 'value' OR resolved_value IS NOT NULL)
          ORDER BY id FOR UPDATE SKIP LOCKED`;
        let applied = 0;
        for (const pass of passesOf(locked))
          applied += await this.applyPass(
            tx,
            pass.map((e) => e.id),
          );
        return applied;
      },
      { timeout: TRANSACTION_TIMEOUT_MS, isolationLevel: Prisma.TransactionIsolationLevel.ReadCommitted },
    );
  }

  // One pass over events this transaction has locked: split, accrue, one allocation row per share, mark applied.
  private async applyPass(tx: Tx, ids: bigint[]): Promise<number> {
    const stored = await tx.$queryRaw<
      { id: bigint; app_id: string; payload: ListeningPayload; resolved_value: ValueBlock | null; amount_msat: bigint; received_at: Date }[]
    >`
          SELECT id, app_id, payload, resolved_value, amount_msat, received_at FROM listening_event WHERE id = ANY(${ids.map(String)}::bigint[]) ORDER BY id`;
    const events = stored.map(({ resolved_value, ...e }) => ({ ...e, value: e.payload.value ?? resolved_value! }));

    const recipients = new Map<string, RecipientRow>();
    const names = new Map<string, AppRecipientName>();
    const pending = new Map<string, PendingAccrual>();
    const allocations: { eventId: bigint; key: string; amountMsat: bigint; day: string }[] = [];
    const applied: typeof events = [];
    const setAside: { id: bigint; error: string }[] = [];
    for (const [index, event] of events.entries()) {
      // A split of the largest block the rules allow costs about a millisecond: between every few the worker
      // answers its health checks and renews its job locks.
      if (index > 0 && index % SPLITS_BETWEEN_YIELDS === 0) await new Promise((resolve) => setImmediate(resolve));
      const { payload } = event;
      let split: readonly Allocation[];
      try {
        split = this.splitOf(event.amount_msat, payload, event.value);
      } catch (error) {
        setAside.push({ id: event.id, error: `cannot be split: ${(error as Error).message}` });
        continue;
      }
      applied.push(event);
      const day = utcDayOf(event.received_at);
      for (const a of split) {
        const identity = recipientIdentity(a.recipient);
        const name = a.recipient.name ?? '';
        recipients.set(identity, { address: a.recipient.address, customKey: a.recipient.customKey ?? '', customValue: a.recipient.customValue ?? '' });
        names.set(JSON.stringify([identity, event.app_id]), { recipient: identity, appId: event.app_id, name });
        const key = JSON.stringify([identity, event.app_id, payload.feedGuid, payload.itemGuid, a.remoteFeedGuid ?? '', a.remoteItemGuid ?? '']);
        // Events come in id order: the latest event's metadata wins.
        const previous = pending.get(key);
        pending.set(key, {
          recipient: identity,
          appId: event.app_id,
          feedGuid: payload.feedGuid,
          itemGuid: payload.itemGuid,
          remoteFeedGuid: a.remoteFeedGuid ?? '',
          remoteItemGuid: a.remoteItemGuid ?? '',
          amountMsat: (previous?.amountMsat ?? 0n) + a.amountMsat,
          name,
          appName: payload.appName ?? '',
          appVersion: payload.appVersion ?? '',
          senderName: payload.senderName ?? '',
          // Whole seconds: the bLIP-10 record's ts (what the balance keeps this for) is an integer.
          position: Math.floor(payload.position),
        });
        allocations.push({ eventId: event.id, key, amountMsat: a.amountMsat, day });
      }
    }

    const recipientIds = await this.upsertRecipients(tx, recipients);
    await this.upsertAppRecipients(tx, names, recipientIds);
    await this.upsertEpisodes(
      tx,
      applied.map((e) => ({ appId: e.app_id, payload: e.payload })),
    );
    const accruals = new Map<string, Accrual>();
    for (const [key, { recipient, ...rest }] of pending) accruals.set(key, { ...rest, recipientId: recipientIds.get(recipient)! });
    const rows = byKey(new Map([...accruals.values()].map((a) => [balanceKey(a), a])));
    const balanceIds = await accrue(
      tx,
      rows.map(([, a]) => a),
    );

    const balanceOf = new Map(
      [...accruals].map(([key, accrual]) => [key, { balanceId: balanceIds.get(balanceKey(accrual))!, recipientId: accrual.recipientId }]),
    );
    await allocate(
      tx,
      allocations.map(({ key, ...share }) => ({ ...share, ...balanceOf.get(key)! })),
    );
    await tx.$executeRaw`UPDATE listening_event SET applied_at = now() WHERE id = ANY(${applied.map((e) => String(e.id))}::bigint[])`;
    for (const { id, error } of setAside) this.logger.error({ eventId: String(id) }, `event set aside, not applied: ${error}`);
    if (setAside.length > 0) {
      await tx.$executeRaw`
            UPDATE listening_event e SET apply_error = d.error
            FROM unnest(${setAside.map((a) => String(a.id))}::bigint[], ${setAside.map((a) => a.error)}::text[]) AS d(id, error)
            WHERE e.id = d.id`;
    }
    return applied.length;
  }

  // The same value block and amount come back in event after event (one episode, many listeners): the exact
  // split, pure and deterministic, is computed once per (amount, length, block, and the position when the block
  // has time splits: only then does the position change the split).
  private readonly splits = new Map<string, Allocation[]>();
  private rememberedBytes = 0;

  private splitOf(amountMsat: bigint, payload: ListeningPayload, value: ValueBlock): readonly Allocation[] {
    const timed = value.timeSplits.length > 0;
    const key = `${amountMsat}|${payload.seconds}|${timed ? payload.position : ''}|${JSON.stringify(value)}`;
    let split = this.splits.get(key);
    if (!split) {
      split = splitListening({ amountMsat, position: payload.position, seconds: payload.seconds, value });
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
  private async upsertRecipients(tx: Tx, recipients: Map<string, RecipientRow>): Promise<Map<string, bigint>> {
    const rows = byKey(recipients).map(([, r]) => r);
    const upserted = await tx.$queryRaw<{ id: bigint; address: string; custom_key: string; custom_value: string }[]>`
      INSERT INTO recipient (address, custom_key, custom_value)
      SELECT * FROM unnest(${rows.map((r) => r.address)}::text[], ${rows.map((r) => r.customKey)}::text[], ${rows.map((r) => r.customValue)}::text[])
      ON CONFLICT (address, custom_key, custom_value) DO UPDATE SET address = EXCLUDED.address
      RETURNING id, address, custom_key, custom_value`;
    return new Map(
      upserted.map((row) => [
        recipientIdentity({ address: row.address, customKey: row.custom_key || undefined, customValue: row.custom_value || undefined }),
        row.id,
      ]),
    );
  }

  // Each app's name for each recipient, the latest of that app's events; before the balances, which reference it.
  private async upsertAppRecipients(tx: Tx, names: Map<string, AppRecipientName>, recipientIds: Map<string, bigint>): Promise<void> {
    const rows = [...names.values()]
      .map((n) => ({ ...n, recipientId: recipientIds.get(n.recipient)! }))
      .sort((a, b) => (a.recipientId === b.recipientId ? (a.appId < b.appId ? -1 : 1) : a.recipientId < b.recipientId ? -1 : 1));
    await tx.$executeRaw`
      INSERT INTO app_recipient (recipient_id, app_id, name)
      SELECT * FROM unnest(${rows.map((r) => String(r.recipientId))}::bigint[], ${rows.map((r) => r.appId)}::text[], ${rows.map((r) => r.name)}::text[])
      ON CONFLICT (recipient_id, app_id) DO UPDATE SET name = EXCLUDED.name, updated_at = now()`;
  }

  // What each app's keysends will tell receivers about each episode: for each of the titles, url and ids, the latest
  // value that app's events gave (an event that leaves a field out keeps the one an earlier event gave).
  private async upsertEpisodes(tx: Tx, episodes: AppEpisode[]): Promise<void> {
    const merged = new Map<string, { appId: string; payload: EpisodeFields }>();
    for (const { appId, payload } of episodes) {
      const key = JSON.stringify([appId, payload.feedGuid, payload.itemGuid]);
      const known = merged.get(key)?.payload;
      const given = Object.fromEntries(EPISODE_FIELDS.flatMap((field) => (payload[field] === undefined ? [] : [[field, payload[field]]])));
      merged.set(key, { appId, payload: { ...known, ...given, feedGuid: payload.feedGuid, itemGuid: payload.itemGuid } });
    }
    const rows = byKey(merged).map(([, e]) => e);
    const payloads = rows.map((e) => e.payload);
    await tx.$executeRaw`
      INSERT INTO episode (app_id, feed_guid, item_guid, feed_title, item_title, feed_url, feed_id, item_id)
      SELECT * FROM unnest(${rows.map((e) => e.appId)}::text[], ${payloads.map((p) => p.feedGuid)}::text[], ${payloads.map((p) => p.itemGuid)}::text[],
                           ${payloads.map((p) => p.feedTitle ?? '')}::text[], ${payloads.map((p) => p.itemTitle ?? '')}::text[],
                           ${payloads.map((p) => p.feedUrl ?? '')}::text[], ${payloads.map((p) => (p.feedId === undefined ? null : String(p.feedId)))}::bigint[],
                           ${payloads.map((p) => (p.itemId === undefined ? null : String(p.itemId)))}::bigint[])
      ON CONFLICT (app_id, feed_guid, item_guid) DO UPDATE SET
        feed_title = COALESCE(NULLIF(EXCLUDED.feed_title, ''), episode.feed_title), item_title = COALESCE(NULLIF(EXCLUDED.item_title, ''), episode.item_title),
        feed_url = COALESCE(NULLIF(EXCLUDED.feed_url, ''), episode.feed_url), feed_id = COALESCE(EXCLUDED.feed_id, episode.feed_id),
        item_id = COALESCE(EXCLUDED.item_id, episode.item_id), updated_at = now()`;
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
