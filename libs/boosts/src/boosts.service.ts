import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import { AppError, ErrorCode } from '@splitstream/errors';
import { MSAT_PER_SAT, toIssues, type ValueBlock } from '@splitstream/money';
import { type Prisma, PrismaService } from '@splitstream/persistence';
import { RESOLVE_BOOST } from '@splitstream/feeds';
import { JobQueue } from '@splitstream/queue';
import { capBreachOf, capBreachRejection, capPeriods, chargeSpend, TenantsService } from '@splitstream/tenants';
import { boostSchema } from './boost.schema.js';
import { BoostQueries, type BoostView } from './boost-queries.service.js';
import { applyBoost, type StoredBoost } from './boost-apply.js';
import { PAY_BOOSTS } from './jobs.js';

// What intake made of a boost: stored now, or stored before with the same content.
export type BoostVerdict = 'accepted' | 'duplicate';

export interface BoostReceipt {
  status: BoostVerdict;
  boost: BoostView;
}

const conflict = (id: string) =>
  new AppError(ErrorCode.Conflict, `boost id ${JSON.stringify(id)} was stored before with different content; nothing changed (a new boost needs a new id)`, [
    { path: 'id', message: 'stored before with different content' },
  ]);

// Boost intake: one boost per request, judged whole (a 4xx names what to fix), stored with its charge to the app's
// caps (and, with an inline block, its split) in one transaction, then handed to the worker to be paid at once
// (PAY_BOOSTS), or first to have its block found (RESOLVE_BOOST). A boost id counts once per
// app, ever: resending it with the same content is a duplicate (the stored boost), with other content a conflict.
@Injectable()
export class BoostsService {
  private readonly logger = new Logger(BoostsService.name);

  constructor(
    private readonly prisma: PrismaService,
    private readonly jobs: JobQueue,
    private readonly tenants: TenantsService,
    private readonly queries: BoostQueries,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async submit(appId: string, body: unknown, now = new Date()): Promise<BoostReceipt> {
    const parsed = boostSchema.safeParse(body);
    if (!parsed.success) throw AppError.validation(toIssues(parsed.error), 'the boost is invalid; nothing was accepted');
    const boost = parsed.data;
    const payload = JSON.stringify(boost);
    const before = await this.storedBefore(appId, boost.id, payload);
    if (before) return before;

    const amountMsat = BigInt(boost.amountSats) * MSAT_PER_SAT;
    if (boost.amountSats > this.config.MAX_EVENT_SATS) {
      throw new AppError(
        ErrorCode.EventAmountTooLarge,
        `the boost is ${boost.amountSats} sats; at most ${this.config.MAX_EVENT_SATS} sats (MAX_EVENT_SATS) per event or boost`,
        [{ path: 'amountSats', message: `at most ${this.config.MAX_EVENT_SATS}` }],
      );
    }
    const caps = await this.tenants.caps(appId);
    if (caps.listenerDayCapMsat !== null && boost.listenerId === undefined) {
      throw new AppError(ErrorCode.ListenerIdRequired, 'the app has a per-listener daily cap: a boost names its listenerId', [
        { path: 'listenerId', message: 'is required: the app has a per-listener daily cap' },
      ]);
    }
    let storedId: bigint | undefined;
    try {
      storedId = await this.prisma.$transaction(async (tx) => {
        const [row] = await tx.$queryRaw<{ id: bigint }[]>`
          INSERT INTO boost (app_id, boost_id, payload, amount_msat, listener_id, boost_uuid)
          VALUES (${appId}, ${boost.id}, ${payload}::jsonb, ${amountMsat}, ${boost.listenerId ?? null}, ${randomUUID()}::uuid)
          ON CONFLICT (app_id, boost_id) DO NOTHING RETURNING id`;
        if (!row) return undefined;
        await chargeSpend(tx, appId, capPeriods(caps, now), amountMsat, boost.listenerId ?? null);
        // An inline block is split now, in the boost's own transaction: the boost is owed from its 202 on.
        if (boost.value !== undefined) await this.split(tx, { id: row.id, app_id: appId, payload: boost, amount_msat: amountMsat }, boost.value);
        return row.id;
      });
    } catch (error) {
      const breach = capBreachOf(error);
      if (!breach) throw error;
      const { code, message } = capBreachRejection(breach, now);
      throw new AppError(code, `the boost was refused: ${message}`, [{ path: 'amountSats', message }]);
    }
    // Stored by a concurrent request since this one looked.
    if (storedId === undefined) {
      const resent = await this.storedBefore(appId, boost.id, payload);
      if (resent) return resent;
      throw conflict(boost.id);
    }
    await this.requestPayment(storedId, boost.value === undefined);
    return { status: 'accepted', boost: (await this.queries.boost(appId, boost.id))! };
  }

  private async storedBefore(appId: string, id: string, payload: string): Promise<BoostReceipt | undefined> {
    const [row] = await this.prisma.$queryRaw<{ same: boolean }[]>`
      SELECT payload = ${payload}::jsonb AS same FROM boost WHERE app_id = ${appId} AND boost_id = ${id}`;
    if (!row) return undefined;
    if (!row.same) throw conflict(id);
    return { status: 'duplicate', boost: (await this.queries.boost(appId, id))! };
  }

  private async split(tx: Prisma.TransactionClient, boost: StoredBoost, value: ValueBlock): Promise<void> {
    try {
      await applyBoost(tx, boost, value);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      throw AppError.validation([{ path: 'value', message: error.message }], 'the boost cannot be split; nothing was accepted');
    }
  }

  // Best effort: when Redis is down the boost is stored (and owed), and the worker's sweep asks for it later.
  private async requestPayment(id: bigint, byReference: boolean): Promise<void> {
    try {
      if (byReference) await this.jobs.enqueue(RESOLVE_BOOST, { boostId: String(id) });
      else await this.jobs.enqueue(PAY_BOOSTS, {});
    } catch (error) {
      this.logger.warn(`boost stored but not queued (${(error as Error).message}); the worker's sweep will pay it`);
    }
  }
}
