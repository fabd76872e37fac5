// B3C: the cold path. App CPU per authorized 10 KB download with the app in its own `sluice serve`
// process (the compiled CLI, plain node) (every thread's run time from /proc/<pid>/task/*/schedstat over each run, divided by the requests answered),
// behind nginx running Sluice's rendered config; wrk picks a different token and a different file
// for every request. Peer: a bare Koa app answering the same X-Accel-Redirect (no auth, policy,
// audit line or metrics), measured the same way in the same run, so the report shows what Sluice
// itself adds on top of Koa, Node's HTTP stack and the loopback socket.
import { appUnderTest, startColdPathStack, type ColdPathStack, type ColdRun, type TokenKind } from '../lib/cold-path.js';
import { atMost } from '../lib/goals.js';
import { median, ratio } from '../lib/stats.js';
import type { Scenario } from '../lib/types.js';

const CONNECTIONS = 16;
const GOALS: Record<TokenKind, number> = { HS256: 80, ES256: 120 };
type Variant = 'Sluice HS256' | 'Sluice ES256' | 'Koa floor';
const VARIANTS: readonly Variant[] = ['Sluice HS256', 'Sluice ES256', 'Koa floor'];

export const b3c: Scenario = {
  id: 'B3C',
  title: 'The cold path: app CPU per authorized request, app in its own process',
  async run(ctx) {
    const { reps, wrkSeconds } = ctx.profile;
    const small = ctx.profile.name === 'tiny';
    const sizes = { files: small ? 20 : 500, tokens: small ? 20 : 1000 };
    // As deployed: the compiled CLI under plain node (compiled once per run, shared with B2–B4).
    const app = await appUnderTest(ctx);
    ctx.progress(`B3C: starting sluice serve and the Koa floor (${sizes.files} files, ${sizes.tokens} tokens per algorithm)`);
    const sluice = await startColdPathStack({ ...sizes, ...app });
    let floor: ColdPathStack | undefined;
    const runs = new Map<Variant, ColdRun[]>();
    try {
      floor = await startColdPathStack({ ...sizes, appScript: ['bench/lib/koa-floor-app.ts'] });
      const measure = (v: Variant): Promise<ColdRun> =>
        v === 'Koa floor'
          ? (floor as ColdPathStack).run('HS256', CONNECTIONS, wrkSeconds)
          : sluice.run(v === 'Sluice HS256' ? 'HS256' : 'ES256', CONNECTIONS, wrkSeconds);
      for (const v of VARIANTS)
        await (v === 'Koa floor' ? (floor as ColdPathStack).run('HS256', 8, 1) : sluice.run(v === 'Sluice HS256' ? 'HS256' : 'ES256', 8, 1));
      for (let rep = 1; rep <= reps; rep++) {
        for (const v of rep % 2 === 1 ? VARIANTS : [...VARIANTS].reverse()) runs.set(v, [...(runs.get(v) ?? []), await measure(v)]);
        ctx.progress(`B3C rep ${rep}/${reps}: ${VARIANTS.map((v) => `${v} ${runs.get(v)?.at(-1)?.cpuMicrosPerRequest.toFixed(0)} µs`).join(', ')}`);
      }
    } finally {
      await floor?.stop();
      await sluice.stop();
    }
    const us = (v: Variant): number[] => (runs.get(v) ?? []).map((r) => r.cpuMicrosPerRequest);
    const floorUs = median(us('Koa floor'));
    const rows = VARIANTS.map((v) => {
      const xs = us(v);
      return [
        v,
        `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`,
        median((runs.get(v) ?? []).map((r) => r.wrk.rps)).toFixed(0),
        ratio(median(xs), floorUs).toFixed(2),
        (median(xs) - floorUs).toFixed(0),
      ];
    });
    return {
      peers: 'a bare Koa app answering the same X-Accel-Redirect (no auth, policy, audit or metrics), same nginx, same measurement',
      tables: [
        {
          caption: `wrk with a Lua script (a random token and file per request), ${CONNECTIONS} connections, ${wrkSeconds} s per run, median (min–max) of ${reps} interleaved runs; app CPU = run time of every thread of the app process from /proc/<pid>/task/*/schedstat over the run ÷ requests answered; audit lines written (log level info)`,
          columns: ['app', 'app CPU µs/request', 'req/s', '× Koa floor', 'µs above the floor'],
          rows,
        },
      ],
      goals: (['HS256', 'ES256'] as const).map((kind) =>
        atMost(`app CPU per authorized request ≤ ${GOALS[kind]} µs (${kind})`, median(us(`Sluice ${kind}`)), GOALS[kind], ' µs', 0),
      ),
      charts: [],
      notes: [
        'CPU per request is less sensitive to other load than throughput, but not immune: on a shared 2-core machine every figure (the floor too) grows with the load average; compare with the Koa floor of the same run.',
      ],
      data: Object.fromEntries(
        [...runs].map(([v, rs]) => [
          v,
          rs.map((r) => ({ us: r.cpuMicrosPerRequest, rps: r.wrk.rps, requests: r.wrk.requests, p50Ms: r.wrk.p50Ms, p99Ms: r.wrk.p99Ms })),
        ]),
      ),
    };
  },
};
