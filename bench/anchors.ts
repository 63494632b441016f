// The anchors the benchmarks are measured against, in the same run on the same machine.
import pg from 'pg';

// Raw `pg` doing the ledger's writes for a batch of events: the dedupe insert, one allocation row per recipient
// share via unnest, and the balance upserts: one transaction per batch, no framework, no validation.
export async function rawPgApply(databaseUrl: string, events: { id: string; amountMsat: bigint; recipients: string[] }[], batch: number): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query(`
    DROP TABLE IF EXISTS anchor_allocation, anchor_balance, anchor_event;
    CREATE TABLE anchor_event (id bigserial PRIMARY KEY, event_id text UNIQUE, amount_msat bigint, applied_at timestamptz);
    CREATE TABLE anchor_balance (id bigserial PRIMARY KEY, recipient text, feed text, item text, owed_msat bigint, UNIQUE (recipient, feed, item));
    CREATE TABLE anchor_allocation (id bigserial PRIMARY KEY, event_id bigint, balance_id bigint, amount_msat bigint);`);
  const started = process.hrtime.bigint();
  for (let i = 0; i < events.length; i += batch) {
    const chunk = events.slice(i, i + batch);
    await client.query('BEGIN');
    const inserted = await client.query<{ id: string; event_id: string }>(
      `INSERT INTO anchor_event (event_id, amount_msat, applied_at) SELECT * , now() FROM unnest($1::text[], $2::bigint[])
       ON CONFLICT (event_id) DO NOTHING RETURNING id, event_id`,
      [chunk.map((e) => e.id), chunk.map((e) => String(e.amountMsat))],
    );
    const dbIds = new Map(inserted.rows.map((r) => [r.event_id, r.id]));
    const shares = chunk.flatMap((e) => e.recipients.map((r) => ({ event: dbIds.get(e.id)!, recipient: r, msat: e.amountMsat / BigInt(e.recipients.length) })));
    const totals = new Map<string, bigint>();
    for (const s of shares) totals.set(s.recipient, (totals.get(s.recipient) ?? 0n) + s.msat);
    const recipients = [...totals.keys()].sort();
    const balances = await client.query<{ id: string; recipient: string }>(
      `INSERT INTO anchor_balance (recipient, feed, item, owed_msat) SELECT r, 'feed', 'item', m FROM unnest($1::text[], $2::bigint[]) AS u(r, m)
       ON CONFLICT (recipient, feed, item) DO UPDATE SET owed_msat = anchor_balance.owed_msat + EXCLUDED.owed_msat RETURNING id, recipient`,
      [recipients, recipients.map((r) => String(totals.get(r)))],
    );
    const balanceIds = new Map(balances.rows.map((b) => [b.recipient, b.id]));
    await client.query('INSERT INTO anchor_allocation (event_id, balance_id, amount_msat) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[])', [
      shares.map((s) => s.event),
      shares.map((s) => balanceIds.get(s.recipient)),
      shares.map((s) => String(s.msat)),
    ]);
    await client.query('COMMIT');
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await client.end();
  return events.length / seconds;
}
