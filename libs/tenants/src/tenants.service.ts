import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import { AppError, ErrorCode } from '@splitstream/errors';
import { MSAT_PER_SAT } from '@splitstream/money';
import { Prisma, PrismaService } from '@splitstream/persistence';
import { type AppCaps, dayPeriod, monthPeriod } from './spend-caps.js';

export interface CapsUpdate {
  dayCapMsat?: bigint | null;
  monthCapMsat?: bigint | null;
  listenerDayCapMsat?: bigint | null;
}

const msatOrNull = (value: bigint | null) => (value === null ? null : String(value));
const startOfUtcDay = (now: Date) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
const startOfUtcMonth = (now: Date) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));

// A registered name as payments carry it: trimmed, 1 to 100 characters, no control characters and no invisible
// format characters (Unicode Cf: a right-to-left override or a zero-width space would make a receiver show
// another name than the one checked for clashes).
function registeredName(raw: string): string {
  const name = raw.trim();
  if (name.length < 1 || name.length > 100 || /[\p{Cc}\p{Cf}]/u.test(name)) {
    throw AppError.validation(
      [{ path: 'name', message: 'must be 1 to 100 characters after trimming, with no control or invisible format characters' }],
      'the name is invalid; nothing was changed',
    );
  }
  return name;
}

// What an app accepted since a time, events and boosts alike: what its caps count.
const acceptedSince = (appId: string, since: Date) => Prisma.sql`
  SELECT amount_msat, received_at, listener_id FROM listening_event WHERE app_id = ${appId} AND received_at >= ${since}
  UNION ALL SELECT amount_msat, received_at, listener_id FROM boost WHERE app_id = ${appId} AND received_at >= ${since}`;

// Apps are the tenants: every API key belongs to one (its name), and every app has day and month caps: its own
// where set, the service's defaults otherwise.
@Injectable()
export class TenantsService {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async caps(appId: string): Promise<AppCaps> {
    return this.capsOf(await this.prisma.app.findUnique({ where: { id: appId } }));
  }

  // The caps in force for an app row (or none): its own where set, the defaults otherwise.
  capsOf(app: { [K in keyof AppCaps]: bigint | null } | null): AppCaps {
    return {
      dayCapMsat: app?.dayCapMsat ?? BigInt(this.config.DEFAULT_APP_DAY_CAP_SATS) * MSAT_PER_SAT,
      monthCapMsat: app?.monthCapMsat ?? BigInt(this.config.DEFAULT_APP_MONTH_CAP_SATS) * MSAT_PER_SAT,
      listenerDayCapMsat: app?.listenerDayCapMsat ?? null,
    };
  }

  // An app exists once it has an API key (keys create it): caps or a name set for any other id would be kept for
  // an app that never sends, and a typo would leave the real app as it was.
  async requireApp(appId: string): Promise<void> {
    const [known] = await this.prisma.$queryRaw<unknown[]>`SELECT 1 FROM api_key WHERE name = ${appId} LIMIT 1`;
    if (!known) throw new AppError(ErrorCode.NotFound, `no app ${JSON.stringify(appId)}: it has no API key (app ids are the names keys were created with)`);
  }

  // Sets (or with null, removes) caps of an existing app. The counters of the current day and month are rebuilt from the events and boosts
  // accepted so far, so a cap set at noon counts the morning's listening too.
  async setCaps(appId: string, update: CapsUpdate, now = new Date()) {
    await this.requireApp(appId);
    await this.prisma.$transaction(async (tx) => {
      await tx.app.upsert({ where: { id: appId }, create: { id: appId, ...update }, update });
      await tx.$executeRaw`
        WITH accepted AS (${acceptedSince(appId, startOfUtcMonth(now))})
        INSERT INTO app_spend (app_id, period, msat)
        SELECT ${appId}, ${dayPeriod(now)}, COALESCE(SUM(amount_msat), 0) FROM accepted WHERE received_at >= ${startOfUtcDay(now)}
        UNION ALL
        SELECT ${appId}, ${monthPeriod(now)}, COALESCE(SUM(amount_msat), 0) FROM accepted
        UNION ALL
        SELECT ${appId}, 'listener-day:' || ${now.toISOString().slice(0, 10)} || ':' || listener_id, SUM(amount_msat) FROM accepted
        WHERE received_at >= ${startOfUtcDay(now)} AND listener_id IS NOT NULL GROUP BY listener_id
        ON CONFLICT (app_id, period) DO UPDATE SET msat = EXCLUDED.msat`;
    });
    return this.view(appId, now);
  }

  // The name the app's payments carry as bLIP-10 app_name (null: back to the app id). Operators set it, never an
  // app, and only for an existing app. No app may take another's: a name that is another app's name or id in any
  // letter case is refused (409).
  async setName(appId: string, rawName: string | null, now = new Date()) {
    const name = rawName === null ? null : registeredName(rawName);
    await this.requireApp(appId);
    if (name !== null) {
      const taken = await this.prisma.$queryRaw<{ app: string }[]>`
        SELECT id AS app FROM app WHERE id <> ${appId} AND (lower(name) = lower(${name}) OR lower(id) = lower(${name}))
        UNION ALL SELECT name AS app FROM api_key WHERE lower(name) = lower(${name}) AND name <> ${appId} LIMIT 1`;
      if (taken.length > 0) throw new AppError(ErrorCode.Conflict, `the name ${JSON.stringify(name)} is another app's (${taken[0]!.app})`);
    }
    await this.prisma.app.upsert({ where: { id: appId }, create: { id: appId, name }, update: { name } });
    return this.view(appId, now);
  }

  // What GET /v1/apps/me and the CLI show: the caps in force and what was accepted today and this month (UTC).
  async view(appId: string, now = new Date()) {
    const app = await this.prisma.app.findUnique({ where: { id: appId } });
    const caps = this.capsOf(app);
    const [spent] = await this.prisma.$queryRaw<{ today: bigint; month: bigint }[]>`
      SELECT COALESCE(SUM(amount_msat) FILTER (WHERE received_at >= ${startOfUtcDay(now)}), 0)::bigint AS today,
             COALESCE(SUM(amount_msat), 0)::bigint AS month
      FROM (${acceptedSince(appId, startOfUtcMonth(now))}) AS accepted`;
    return {
      app: appId,
      // What its payments say they come from (bLIP-10 app_name).
      name: app?.name ?? appId,
      caps: {
        dayMsat: String(caps.dayCapMsat),
        monthMsat: String(caps.monthCapMsat),
        listenerDayMsat: msatOrNull(caps.listenerDayCapMsat),
      },
      accepted: { todayMsat: String(spent!.today), thisMonthMsat: String(spent!.month) },
    };
  }

  // Counters of past days and months are never read again.
  async pruneSpend(now = new Date()): Promise<number> {
    return this.prisma.$executeRaw`
      DELETE FROM app_spend WHERE (period LIKE 'day:%' AND period < ${dayPeriod(now)})
        OR (period LIKE 'listener-day:%' AND period < ${`listener-day:${now.toISOString().slice(0, 10)}`})
        OR (period LIKE 'month:%' AND period < ${monthPeriod(now)})`;
  }
}
