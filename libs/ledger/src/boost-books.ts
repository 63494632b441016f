import type { Prisma } from '@splitstream/persistence';

type Tx = Prisma.TransactionClient;

// The books' boost movements (see books.ts: per balance, accrued = owed + in flight + parked + paid).

// One recipient's share of one boost, exact to the msat.
export interface BoostShare {
  address: string;
  customKey: string;
  customValue: string;
  name: string;
  remoteFeedGuid: string;
  remoteItemGuid: string;
  amountMsat: bigint;
}

export interface AppliedBoost {
  id: bigint;
  appId: string;
  feedGuid: string;
  itemGuid: string;
  appName: string;
  appVersion: string;
  senderName: string;
  position: number;
}

// Accrue a boost: each share becomes its own boost balance (owed, or parked when the recipient is parked for the
// app), and the boost is marked applied, in the caller's transaction. Recipients and the app's names for them are
// written first (as accumulation does), in identity order so concurrent writers lock them in one order.
export async function accrueBoost(tx: Tx, boost: AppliedBoost, shares: BoostShare[]): Promise<void> {
  const rows = [...shares].sort((a, b) =>
    JSON.stringify([a.address, a.customKey, a.customValue]) < JSON.stringify([b.address, b.customKey, b.customValue]) ? -1 : 1,
  );
  if (rows.length > 0) {
    await tx.$executeRaw`
      WITH r AS (
        INSERT INTO recipient (address, custom_key, custom_value)
        SELECT DISTINCT * FROM unnest(${rows.map((s) => s.address)}::text[], ${rows.map((s) => s.customKey)}::text[], ${rows.map((s) => s.customValue)}::text[])
        ON CONFLICT (address, custom_key, custom_value) DO UPDATE SET address = EXCLUDED.address
        RETURNING id, address, custom_key, custom_value
      )
      INSERT INTO app_recipient (recipient_id, app_id, name)
      SELECT DISTINCT ON (r.id) r.id, ${boost.appId}, d.n
      FROM unnest(${rows.map((s) => s.address)}::text[], ${rows.map((s) => s.customKey)}::text[], ${rows.map((s) => s.customValue)}::text[],
                  ${rows.map((s) => s.name)}::text[]) AS d(a, k, v, n)
      JOIN r ON r.address = d.a AND r.custom_key = d.k AND r.custom_value = d.v
      ORDER BY r.id
      ON CONFLICT (recipient_id, app_id) DO UPDATE SET name = EXCLUDED.name, updated_at = now()`;
    await tx.$executeRaw`
      INSERT INTO balance (recipient_id, app_id, boost_id, feed_guid, item_guid, remote_feed_guid, remote_item_guid, accrued_msat, owed_msat, parked_msat,
                           name, app_name, app_version, sender_name, position)
      SELECT rc.id, ${boost.appId}, ${boost.id}, ${boost.feedGuid}, ${boost.itemGuid}, d.rf, d.ri, d.m,
             CASE WHEN ar.parked THEN 0 ELSE d.m END, CASE WHEN ar.parked THEN d.m ELSE 0 END,
             d.n, ${boost.appName}, ${boost.appVersion}, ${boost.senderName}, ${boost.position}
      FROM unnest(${rows.map((s) => s.address)}::text[], ${rows.map((s) => s.customKey)}::text[], ${rows.map((s) => s.customValue)}::text[],
                  ${rows.map((s) => s.name)}::text[], ${rows.map((s) => s.remoteFeedGuid)}::text[], ${rows.map((s) => s.remoteItemGuid)}::text[],
                  ${rows.map((s) => String(s.amountMsat))}::bigint[]) AS d(a, k, v, n, rf, ri, m)
      JOIN recipient rc ON rc.address = d.a AND rc.custom_key = d.k AND rc.custom_value = d.v
      JOIN app_recipient ar ON ar.recipient_id = rc.id AND ar.app_id = ${boost.appId}`;
  }
  await tx.$executeRaw`UPDATE boost SET applied_at = now() WHERE id = ${boost.id}`;
}

// What of a boost balance joins its recipient's stream balance for the same app and episode (created when missing).
export interface BoostJoin {
  balanceId: bigint;
  msat: bigint;
}

// Join: owed money of a boost balance too small to send alone (a share below what its route can send, or the
// sub-sat rest of one) moves, accrued and owed together, to the recipient's stream balance of the same app and
// episode, and is paid with the stream money; the boost balance counts it in boost_joined_msat.
export async function joinStreamBalance(tx: Tx, joins: BoostJoin[]): Promise<void> {
  for (const { balanceId, msat } of joins) {
    if (msat <= 0n) continue;
    const [stream] = await tx.$queryRaw<{ id: bigint }[]>`
      INSERT INTO balance (recipient_id, app_id, feed_guid, item_guid, remote_feed_guid, remote_item_guid, accrued_msat, owed_msat,
                           name, app_name, app_version, sender_name, position)
      SELECT recipient_id, app_id, feed_guid, item_guid, remote_feed_guid, remote_item_guid, ${msat}::bigint, ${msat}::bigint,
             name, app_name, app_version, sender_name, position
      FROM balance WHERE id = ${balanceId} AND owed_msat >= ${msat}::bigint
      ON CONFLICT (recipient_id, app_id, feed_guid, item_guid, remote_feed_guid, remote_item_guid) WHERE boost_id IS NULL DO UPDATE SET
        accrued_msat = balance.accrued_msat + EXCLUDED.accrued_msat, owed_msat = balance.owed_msat + EXCLUDED.owed_msat, updated_at = now()
      RETURNING id`;
    if (!stream) throw new RangeError(`boost balance ${balanceId} does not owe ${msat} msat`);
    await tx.$executeRaw`
      UPDATE balance SET accrued_msat = accrued_msat - ${msat}::bigint, owed_msat = owed_msat - ${msat}::bigint,
             boost_joined_msat = boost_joined_msat + ${msat}::bigint, updated_at = now()
      WHERE id = ${balanceId}`;
  }
}
