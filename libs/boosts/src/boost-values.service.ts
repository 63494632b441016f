import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import { RESOLVE_BOOST, SourceFailure, type ValueReference, ValueBlockResolver } from '@splitstream/feeds';
import { BLIP10_MAX_BYTES } from '@splitstream/money';
import { PrismaService } from '@splitstream/persistence';
import { JobQueue } from '@splitstream/queue';
import { applyBoost, type StoredBoost } from './boost-apply.js';
import { largestBoostRecord } from './boost.schema.js';
import { PAY_BOOSTS } from './jobs.js';

interface WaitingBoost extends StoredBoost {
  resolve_after: Date | null;
}

// The worker's step for a boost sent by reference (RESOLVE_BOOST): finds its block as for an event
// (ValueBlockResolver: the feed at feedUrl, else the Podcast Index by GUIDs, remote items included), stores it with
// its origin, splits the boost and asks for it to be paid. A source that fails is tried again after its backoff;
// after FEED_MAX_ATTEMPTS failures in a row the boost is set aside with the reason, until POST /v1/events/retry.
@Injectable()
export class BoostValues {
  private readonly logger = new Logger(BoostValues.name);

  constructor(
    private readonly prisma: PrismaService,
    private readonly resolver: ValueBlockResolver,
    private readonly jobs: JobQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async resolve(boostId: bigint): Promise<void> {
    const [boost] = await this.prisma.$queryRaw<WaitingBoost[]>`
      SELECT id, app_id, payload, amount_msat, resolve_after FROM boost
      WHERE id = ${boostId} AND applied_at IS NULL AND apply_error IS NULL AND NOT (payload ? 'value')`;
    if (!boost) return;
    if (boost.resolve_after !== null && boost.resolve_after.getTime() > Date.now()) return this.later(boost.id, boost.resolve_after);
    const { payload } = boost;
    const ref: ValueReference = { feedGuid: payload.feedGuid, itemGuid: payload.itemGuid, ...(payload.feedUrl !== undefined && { feedUrl: payload.feedUrl }) };
    let resolved;
    try {
      resolved = await this.resolver.resolve(ref);
    } catch (error) {
      if (!(error instanceof SourceFailure)) throw error;
      const failed = error.failedSource;
      const reason = error.setAsideReason(this.config.FEED_MAX_ATTEMPTS);
      if (reason !== undefined) {
        this.logger.warn({ boostId: String(boostId), source: error.url }, `boost set aside: ${reason}`);
        await this.prisma.$executeRaw`
          UPDATE boost SET apply_error = ${reason}, resolve_error = ${error.message}, value_source = ${failed}::jsonb, resolve_after = NULL
          WHERE id = ${boostId} AND applied_at IS NULL`;
        return;
      }
      await this.prisma.$executeRaw`
        UPDATE boost SET resolve_after = ${error.retryAt}, resolve_error = ${error.message}, value_source = ${failed}::jsonb
        WHERE id = ${boostId} AND applied_at IS NULL`;
      return this.later(boostId, error.retryAt);
    }
    const { block, source } = resolved;
    const bytes = largestBoostRecord(payload, block);
    const unfit =
      bytes > BLIP10_MAX_BYTES
        ? `the found block's remote items make every payment's bLIP-10 record ${bytes} bytes with the message; at most ${BLIP10_MAX_BYTES} fit (it is never cut)`
        : undefined;
    await this.prisma.$transaction(async (tx) => {
      const [locked] = await tx.$queryRaw<{ id: bigint }[]>`
        SELECT id FROM boost WHERE id = ${boostId} AND applied_at IS NULL AND apply_error IS NULL FOR UPDATE`;
      if (!locked) return;
      await tx.$executeRaw`
        UPDATE boost SET resolved_value = ${JSON.stringify(block)}::jsonb, value_source = ${JSON.stringify(source)}::jsonb, resolve_after = NULL,
                         resolve_error = NULL, apply_error = ${unfit ?? null}
        WHERE id = ${boostId}`;
      if (unfit) return;
      try {
        await applyBoost(tx, boost, block);
      } catch (error) {
        // The split is computed before anything is written: a refused block wrote nothing.
        if (!(error instanceof RangeError)) throw error;
        await tx.$executeRaw`UPDATE boost SET apply_error = ${`cannot be split: ${error.message}`} WHERE id = ${boostId}`;
      }
    });
    if (unfit) this.logger.warn({ boostId: String(boostId) }, `boost set aside: ${unfit}`);
    await this.jobs.enqueue(PAY_BOOSTS, {});
  }

  private async later(boostId: bigint, after: Date): Promise<void> {
    const delayMs = Math.max(0, after.getTime() - Date.now());
    await this.jobs.enqueue(RESOLVE_BOOST, { boostId: String(boostId), after: String(after.getTime()), delayMs });
  }
}
