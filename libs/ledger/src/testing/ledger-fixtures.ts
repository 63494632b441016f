// Shared by the ledger's integration specs: an accrual with defaults, and a query's plan as a flat list of nodes.
import { Prisma, type PrismaService } from '@splitstream/persistence';
import { pubkey } from '../../../money/src/testing/value-builders.js';
import type { Accrual } from '../books.js';

export const accrualFor = (recipientId: bigint, overrides: Partial<Accrual> = {}): Accrual => ({
  recipientId,
  appId: 'app',
  feedGuid: 'feed',
  itemGuid: 'item',
  remoteFeedGuid: '',
  remoteItemGuid: '',
  amountMsat: 10_000n,
  name: 'Host',
  appName: 'App',
  appVersion: '1',
  senderName: 'satoshi',
  position: 5,
  ...overrides,
});

export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}
const nodesOf = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodesOf)];

// EXPLAIN (no ANALYZE): every node of the plan the database would run, depth first.
export async function planOf(prisma: Pick<PrismaService, '$queryRaw'>, sql: Prisma.Sql): Promise<PlanNode[]> {
  const [row] = await prisma.$queryRaw<{ 'QUERY PLAN': [{ Plan: PlanNode }] }[]>(Prisma.sql`EXPLAIN (FORMAT JSON) ${sql}`);
  return nodesOf(row!['QUERY PLAN'][0].Plan);
}

// A pending payment of `sats` for a balance, in a run of its own: what a reservation hangs on.
export async function pendingPayment(prisma: PrismaService, p: { recipientId: bigint; balanceId: bigint; sats: number; reference: string }): Promise<bigint> {
  const payout = await prisma.payout.create({ data: { trigger: 'manual', status: 'completed' } });
  const { appId } = await prisma.balance.findUniqueOrThrow({ where: { id: p.balanceId }, select: { appId: true } });
  const payment = await prisma.payment.create({
    data: {
      payoutId: payout.id,
      recipientId: p.recipientId,
      balanceId: p.balanceId,
      appId,
      reference: p.reference,
      amountSats: p.sats,
      destination: pubkey(1),
      attempt: 1,
      status: 'pending',
      customRecords: {},
    },
  });
  return payment.id;
}
