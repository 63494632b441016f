// POST /v1/events beside the intake anchors of issue 23, measured in turns (service and anchors alternate, in
// reverse order every other round) and reported as medians:
//   (a) bare Fastify + one BullMQ add (bench/bare-endpoint.ts): no durability, the framework's floor;
//   (b) bare Fastify + pg: the service's rows for the request in one transaction, synchronous commit, then one add;
//   (c) (b) with group commit: concurrent requests share one transaction (bench/pg-endpoint.ts).
// Each load: req/s, events/s, p50/p99, and CPU per request of the server process and of PostgreSQL's backends.
import { Queue } from 'bullmq';
import {
  type BenchContext,
  type BenchRow,
  type BenchSection,
  capApp,
  freshDatabase,
  type LoadFigures,
  type LoadShape,
  type LoadTarget,
  measureLoad,
  median,
  ratio,
  startApi,
  startProcess,
  stopProcess,
  waitHealthy,
} from '../support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
// 50 connections at 1 event per request; at 100, 10 are enough to saturate and keep every request answered within
// a run (a request still in flight when the run ends is not counted, yet its CPU is).
const connectionsFor = (eventsPerRequest: number) => (eventsPerRequest === 1 ? 50 : 10);
const MSAT_PER_SAT = 1000n;

type TargetName = 'splitstream' | '(a) Fastify + BullMQ add' | '(b) Fastify + pg, sync commit' | '(c) Fastify + pg, group commit';
type Targets = Record<TargetName, LoadTarget>;
interface Scenario {
  name: string;
  shape: LoadShape;
  capped: boolean;
  anchors: TargetName[];
}

// In the order single, hundred, capped single, capped hundred.
const SCENARIOS: Scenario[] = [false, true].flatMap((capped) =>
  [1, 100].map((eventsPerRequest) => ({
    name: `${capped ? 'app with caps (day, month, listener)' : 'no caps of its own'}, ${eventsPerRequest} event${eventsPerRequest > 1 ? 's' : ''}/request, ${connectionsFor(eventsPerRequest)} conn`,
    shape: { eventsPerRequest, listeners: capped, connections: connectionsFor(eventsPerRequest) },
    capped,
    // (a) guarantees nothing a cap needs: it is an anchor of the uncapped runs only.
    anchors: [
      ...(capped ? [] : (['(a) Fastify + BullMQ add'] as const)),
      '(b) Fastify + pg, sync commit',
      '(c) Fastify + pg, group commit',
    ] satisfies TargetName[],
  })),
);

const medianFigures = (runs: LoadFigures[]): LoadFigures => {
  const of = (field: keyof LoadFigures) => median(runs.map((r) => r[field]));
  return {
    rps: of('rps'),
    eventsPerSecond: of('eventsPerSecond'),
    p50: of('p50'),
    p99: of('p99'),
    serverCpuMs: of('serverCpuMs'),
    databaseCpuMs: of('databaseCpuMs'),
    requests: of('requests'),
    fiveXx: Math.max(...runs.map((r) => r.fiveXx)),
    errors: Math.max(...runs.map((r) => r.errors)),
  };
};

const describeLoad = (f: LoadFigures) =>
  `${Math.round(f.rps)} req/s = ${Math.round(f.eventsPerSecond)} events/s, p50 ${f.p50} ms, p99 ${f.p99} ms; CPU/request ${f.serverCpuMs.toFixed(2)} ms server + ${f.databaseCpuMs.toFixed(2)} ms PostgreSQL`;

async function startTargets(ctx: BenchContext, keys: { plain: string; capped: string }) {
  const { ports, env } = ctx;
  const msat = (sats: string) => String(BigInt(sats) * MSAT_PER_SAT);
  const anchorArgs = (port: number, mode: string) => [
    String(port),
    ctx.databaseUrl,
    ctx.redisUrl,
    ctx.prefix,
    mode,
    msat(env.DEFAULT_APP_DAY_CAP_SATS!),
    msat(env.DEFAULT_APP_MONTH_CAP_SATS!),
  ];
  const processes = {
    splitstream: startApi(env),
    '(a) Fastify + BullMQ add': startProcess('bench/bare-endpoint.ts', {}, [String(ports.bare), ctx.redisUrl, ctx.prefix]),
    '(b) Fastify + pg, sync commit': startProcess('bench/pg-endpoint.ts', {}, anchorArgs(ports.intakeSync, 'sync')),
    '(c) Fastify + pg, group commit': startProcess('bench/pg-endpoint.ts', {}, anchorArgs(ports.intakeGroup, 'group')),
  };
  const portOf: Record<TargetName, number> = {
    splitstream: ports.api,
    '(a) Fastify + BullMQ add': ports.bare,
    '(b) Fastify + pg, sync commit': ports.intakeSync,
    '(c) Fastify + pg, group commit': ports.intakeGroup,
  };
  await Promise.all(Object.values(portOf).map((port) => waitHealthy(`http://127.0.0.1:${port}/health`)));
  // The anchors take the app id as their bearer token.
  const targets = (capped: boolean): Targets =>
    Object.fromEntries(
      (Object.keys(processes) as TargetName[]).map((name) => [
        name,
        {
          url: `http://127.0.0.1:${portOf[name]}`,
          pid: processes[name].pid!,
          key: name === 'splitstream' ? (capped ? keys.capped : keys.plain) : capped ? 'bench-capped' : 'bench',
        },
      ]),
    ) as Targets;
  return { targets, stop: () => Promise.all(Object.values(processes).map(stopProcess)) };
}

export const intake: BenchSection = {
  name: 'intake',
  async run(ctx) {
    await freshDatabase(ctx.databaseUrl);
    const keys = { plain: ctx.createKey('bench'), capped: ctx.createKey('bench-capped') };
    capApp(ctx, 'bench-capped');
    const { targets, stop } = await startTargets(ctx, keys);

    const runs = new Map<string, LoadFigures[]>();
    for (let round = 0; round < ROUNDS; round++)
      for (const scenario of SCENARIOS) {
        const order: TargetName[] = ['splitstream', ...scenario.anchors];
        for (const name of round % 2 ? order.reverse() : order) {
          const figures = await measureLoad(targets(scenario.capped)[name], scenario.shape, ctx.seconds, ctx.databaseUrl);
          // Said, not thrown: one bad run on a busy machine should not lose the others' figures.
          if (!figures.requests || figures.fiveXx || figures.errors)
            console.error(`bench: intake, ${name}, ${scenario.name}: ${figures.requests} answered, ${figures.fiveXx} 5xx, ${figures.errors} other errors`);
          runs.set(`${scenario.name}|${name}`, [...(runs.get(`${scenario.name}|${name}`) ?? []), figures]);
        }
      }
    await stop();
    await Promise.all(
      ['bench-bare', 'bench-anchor'].map(async (name) => {
        const queue = new Queue(name, { connection: { url: ctx.redisUrl }, prefix: ctx.prefix });
        await queue.obliterate({ force: true });
        await queue.close();
      }),
    );

    const result = (scenario: Scenario, name: TargetName) => medianFigures(runs.get(`${scenario.name}|${name}`)!);
    const [single, hundred, cappedSingle, cappedHundred] = SCENARIOS as [Scenario, Scenario, Scenario, Scenario];
    const rows: BenchRow[] = [];
    const row = (
      what: string,
      figure: LoadFigures | null,
      anchorName: string,
      anchor: LoadFigures | null,
      value: number | null,
      target: string,
      met: boolean | null,
    ) =>
      rows.push({
        what: `intake, ${what}`,
        figure: figure ? describeLoad(figure) : '-',
        anchor: anchor ? `${anchorName}: ${describeLoad(anchor)}` : anchorName,
        ratio: value,
        target,
        // A run with failed requests meets nothing, whatever its rate.
        met: met === null ? null : met && !figure?.fiveXx && !figure?.errors,
      });

    const ours = result(single, 'splitstream');
    const grouped = result(single, '(c) Fastify + pg, group commit');
    row(`${single.name}: req/s`, ours, '(c)', grouped, ratio(ours.rps, grouped.rps), '>= 0.6 of (c)', ratio(ours.rps, grouped.rps) >= 0.6);
    row(`${single.name}: server CPU per request`, ours, '-', null, null, '<= 1.5 ms', ours.serverCpuMs <= 1.5);
    row(`${single.name}: p99 latency`, ours, '-', null, null, 'p99 < 100 ms', ours.p99 < 100);
    const oursHundred = result(hundred, 'splitstream');
    const synced = result(hundred, '(b) Fastify + pg, sync commit');
    const hundredRatio = ratio(oursHundred.eventsPerSecond, synced.eventsPerSecond);
    row(`${hundred.name}: events/s`, oursHundred, '(b)', synced, hundredRatio, '>= 0.8 of (b)', hundredRatio >= 0.8);
    for (const [capped, uncapped] of [
      [cappedSingle, single],
      [cappedHundred, hundred],
    ] as const) {
      const withCaps = result(capped, 'splitstream');
      const without = result(uncapped, 'splitstream');
      const value = ratio(withCaps.rps, without.rps);
      row(`${capped.name}: req/s`, withCaps, 'splitstream, no caps of its own', without, value, '>= 0.8 of uncapped', value >= 0.8);
    }
    // Every anchor's own figures, for reading the ratios above.
    for (const scenario of SCENARIOS)
      for (const name of scenario.anchors) {
        row(`${scenario.name}: anchor`, null, name, result(scenario, name), null, '-', null);
      }
    rows.forEach(ctx.report);
  },
};
