// B3: small authorized downloads in two forms, each side by side with nginx serving the same
// requests statically (no auth) on the same nginx, in the same run:
//   cold — every request a different 10 KB file and a different user's token (500 files, 1000
//          users per algorithm): nothing to reuse. Decision cache off: it is the default, and for
//          traffic that never repeats a (user, file) pair a cache only adds work (one row shows
//          the cache on with every request a miss);
//   warm — the decision cache on (ttl 10 s): 8 users re-reading their gallery of 24 files, and
//          one request in four a 256 KiB Range of a video-sized file at a random offset (a player
//          seeking). Range requests of the same file by the same user share one cached decision.
// The app runs as its own `sluice serve` process (compiled, plain node), so app CPU per request
// comes from /proc/<pid> of the app alone; a scaling row runs the cold HS256 load against
// `sluice serve --processes 2`. Latency percentiles are wrk's, per path, as measured.
import { appUnderTest, RANGE_BYTES, startColdPathStack, WARM_GALLERY, WARM_USERS, type ColdPathStack, type LoadRun, type Workload } from '../lib/cold-path.js';
import { atLeast } from '../lib/goals.js';
import { formatSpread, median, ratio, spread } from '../lib/stats.js';
import type { Chart, Scenario, Table } from '../lib/types.js';

const CONCURRENCIES = { tiny: [1, 4], quick: [1, 16, 64], default: [1, 16, 64] } as const;
/** The concurrency of the extra rows (ES256, cache-on misses, warm without cache, 2 processes), as B3C. */
const MAIN = { tiny: 4, quick: 16, default: 16 } as const;
const TTL_SECONDS = 10;
const VIDEO_BYTES = { tiny: 4 * 2 ** 20, quick: 64 * 2 ** 20, default: 256 * 2 ** 20 } as const;

type Series = 'cold static' | 'cold HS256' | 'warm static' | 'warm HS256 cached';
const SWEEP: readonly Series[] = ['cold static', 'cold HS256', 'warm static', 'warm HS256 cached'];
type Extra = 'cold ES256' | 'cold HS256 cache on (misses)' | 'warm HS256 cache off' | 'warm ES256 cached' | 'cold HS256, 2 processes';
const EXTRAS: readonly Extra[] = ['cold ES256', 'cold HS256 cache on (misses)', 'warm HS256 cache off', 'warm ES256 cached', 'cold HS256, 2 processes'];
type Variant = Series | Extra;

const WORKLOAD: Record<Variant, Workload> = {
  'cold static': { mix: 'cold', target: 'direct', kind: 'HS256' },
  'cold HS256': { mix: 'cold', target: 'files', kind: 'HS256' },
  'warm static': { mix: 'warm', target: 'direct', kind: 'HS256' },
  'warm HS256 cached': { mix: 'warm', target: 'cached', kind: 'HS256' },
  'cold ES256': { mix: 'cold', target: 'files', kind: 'ES256' },
  'cold HS256 cache on (misses)': { mix: 'cold', target: 'cached', kind: 'HS256' },
  'warm HS256 cache off': { mix: 'warm', target: 'files', kind: 'HS256' },
  'warm ES256 cached': { mix: 'warm', target: 'cached', kind: 'ES256' },
  'cold HS256, 2 processes': { mix: 'cold', target: 'files', kind: 'HS256' },
};

const ms = (x: number): string => (x < 10 ? x.toFixed(2) : x.toFixed(1));

export const b3: Scenario = {
  id: 'B3',
  title: '10 KB authorized downloads, cold and warm, app in its own process: Sluice vs nginx static',
  async run(ctx) {
    const { reps, wrkSeconds, name } = ctx.profile;
    const concurrencies = CONCURRENCIES[name];
    const main = MAIN[name];
    const small = name === 'tiny';
    const sizes = { files: small ? 40 : 500, tokens: small ? 20 : 1000, decisionCacheSeconds: TTL_SECONDS, videoBytes: VIDEO_BYTES[name] };
    const app = await appUnderTest(ctx);
    ctx.progress(
      `B3: starting sluice serve (1 and 2 processes; ${sizes.files} files, ${sizes.tokens} users per algorithm, a ${(sizes.videoBytes / 2 ** 20).toFixed(0)} MiB video)`,
    );
    const one = await startColdPathStack({ ...sizes, ...app });
    let two: ColdPathStack | undefined;
    const runs = new Map<string, LoadRun[]>();
    const key = (v: Variant, c: number): string => `${v}@${c}`;
    const measure = async (v: Variant, c: number): Promise<void> => {
      const stack = v === 'cold HS256, 2 processes' ? (two as ColdPathStack) : one;
      const r = await stack.load(WORKLOAD[v], c, wrkSeconds);
      runs.set(key(v, c), [...(runs.get(key(v, c)) ?? []), r]);
    };
    try {
      two = await startColdPathStack({ ...sizes, ...app, processes: 2 });
      // Warm-up (not counted): JIT, keep-alive pools, the page cache, the first cache entries.
      for (const v of [...SWEEP, ...EXTRAS]) await (v === 'cold HS256, 2 processes' ? two : one).load(WORKLOAD[v], 8, small ? 1 : 2);
      for (let rep = 1; rep <= reps; rep++) {
        for (const c of concurrencies) {
          const variants: Variant[] = [...SWEEP, ...(c === main ? EXTRAS : [])];
          for (const v of rep % 2 === 1 ? variants : variants.reverse()) await measure(v, c);
          const rps = (v: Variant): string => (runs.get(key(v, c))?.at(-1)?.wrk.rps ?? 0).toFixed(0);
          ctx.progress(`B3 rep ${rep}/${reps} c=${c}: ${variants.map((v) => `${v} ${rps(v)}`).join(', ')} req/s`);
        }
      }
    } finally {
      await two?.stop();
      await one.stop();
    }
    const all = (v: Variant, c: number): LoadRun[] => runs.get(key(v, c)) ?? [];
    const med = (v: Variant, c: number, pick: (r: LoadRun) => number): number => median(all(v, c).map(pick));
    const rps = (v: Variant, c: number): number => med(v, c, (r) => r.wrk.rps);
    const lat = (v: Variant, c: number): string => `${ms(med(v, c, (r) => r.wrk.p50Ms))} / ${ms(med(v, c, (r) => r.wrk.p99Ms))}`;
    const cpu = (v: Variant, c: number): string => formatSpread(spread(all(v, c).map((r) => r.cpuMicrosPerRequest)));
    const hit = (v: Variant, c: number): string => {
      const rates = all(v, c)
        .map((r) => r.hitRate ?? Number.NaN)
        .filter(Number.isFinite);
      return rates.length === 0 ? '—' : `${(median(rates) * 100).toFixed(1)}%`;
    };
    const vs = (v: Variant, peer: Series, c: number): string => `${rps(v, c).toFixed(0)} (${ratio(rps(v, c), rps(peer, c)).toFixed(2)})`;
    const sweepTable = (mix: 'cold' | 'warm'): Table => {
      const [peer, sluice] = mix === 'cold' ? (['cold static', 'cold HS256'] as const) : (['warm static', 'warm HS256 cached'] as const);
      return {
        caption:
          mix === 'cold'
            ? `cold: every request a random one of ${sizes.files} files of 10 KB and a random one of ${sizes.tokens} users' HS256 tokens; decision cache off; wrk, ${wrkSeconds} s per run, medians of ${reps} interleaved runs; nginx static gets the same requests at \`/direct/\``
            : `warm: decision cache on (ttl ${TTL_SECONDS} s), ${WARM_USERS} users each re-reading a gallery of ${WARM_GALLERY} files of 10 KB, one request in four a ${RANGE_BYTES / 1024} KiB Range of a ${(sizes.videoBytes / 2 ** 20).toFixed(0)} MiB video at a random offset; wrk, ${wrkSeconds} s per run, medians of ${reps} interleaved runs; nginx static gets the same requests`,
        columns: [
          'connections',
          'nginx static req/s',
          'nginx static p50 / p99 ms',
          `Sluice HS256 req/s (× static)`,
          'Sluice p50 / p99 ms',
          'app CPU µs/request',
          ...(mix === 'warm' ? ['decision cache hits'] : []),
        ],
        rows: concurrencies.map((c) => [
          String(c),
          rps(peer, c).toFixed(0),
          lat(peer, c),
          vs(sluice, peer, c),
          lat(sluice, c),
          cpu(sluice, c),
          ...(mix === 'warm' ? [hit(sluice, c)] : []),
        ]),
      };
    };
    const peerOf = (v: Variant): Series => (v.startsWith('cold') ? 'cold static' : 'warm static');
    const extraRows = [...SWEEP.filter((v) => !v.endsWith('static')), ...EXTRAS].map((v) => [
      v,
      vs(v, peerOf(v), main),
      lat(v, main),
      cpu(v, main),
      hit(v, main),
    ]);
    const ratios = (v: Series, peer: Series): number[] => concurrencies.map((c) => ratio(rps(v, c), rps(peer, c)));
    const scaling = ratio(rps('cold HS256, 2 processes', main), rps('cold HS256', main));
    const charts: Chart[] = [
      {
        id: 'b3-latency',
        title: '10 KB downloads: p50 / p99 latency vs concurrency (each path as measured)',
        xLabel: 'concurrent connections (log)',
        yLabel: 'latency (ms)',
        logX: true,
        series: SWEEP.flatMap((v) => [
          { name: `${v} p50`, points: concurrencies.map((c) => [c, med(v, c, (r) => r.wrk.p50Ms)] as const) },
          { name: `${v} p99`, points: concurrencies.map((c) => [c, med(v, c, (r) => r.wrk.p99Ms)] as const) },
        ]),
      },
      {
        id: 'b3-throughput',
        title: '10 KB downloads: requests/s vs concurrency',
        xLabel: 'concurrent connections (log)',
        yLabel: 'requests/s',
        logX: true,
        series: SWEEP.map((v) => ({ name: v, points: concurrencies.map((c) => [c, rps(v, c)] as const) })),
      },
    ];
    const cpuMedian = (v: Variant): number => med(v, main, (r) => r.cpuMicrosPerRequest);
    return {
      peers: 'nginx static location (no auth) on the same nginx, given the same requests (same files, same Range mix)',
      tables: [
        sweepTable('cold'),
        sweepTable('warm'),
        {
          caption: `every variant at ${main} connections (the same runs, interleaved with the sweep); "× static" is against nginx static under the same workload; app CPU = run time of every thread of all the app's processes (/proc/<pid>/task/*/schedstat) ÷ requests, median (min–max)`,
          columns: ['variant', 'req/s (× static)', 'p50 / p99 ms', 'app CPU µs/request', 'decision cache hits'],
          rows: extraRows,
        },
      ],
      goals: [
        atLeast(
          'warm: req/s ≥ 0.60 of nginx static, decision cache on (HS256, worst concurrency)',
          Math.min(...ratios('warm HS256 cached', 'warm static')),
          0.6,
        ),
        atLeast(
          'warm: req/s ≥ 0.60 of nginx static, decision cache on (HS256, best concurrency)',
          Math.max(...ratios('warm HS256 cached', 'warm static')),
          0.6,
        ),
        atLeast('cold: req/s ≥ 0.30 of nginx static (HS256, worst concurrency)', Math.min(...ratios('cold HS256', 'cold static')), 0.3),
        atLeast('cold: req/s ≥ 0.30 of nginx static (HS256, best concurrency)', Math.max(...ratios('cold HS256', 'cold static')), 0.3),
        atLeast(`cold: req/s ≥ 0.30 of nginx static (ES256, ${main} connections)`, ratio(rps('cold ES256', main), rps('cold static', main)), 0.3),
      ],
      charts,
      notes: [
        `Scaling: the cold HS256 load against \`sluice serve --processes 2\` ran at ${scaling.toFixed(2)}× the req/s of one process (${main} connections, same run), on 2 cores that also run nginx and wrk.`,
        `App CPU per request at ${main} connections (median): cold HS256 ${cpuMedian('cold HS256').toFixed(0)} µs, cold ES256 ${cpuMedian('cold ES256').toFixed(0)} µs, warm with the decision cache ${cpuMedian('warm HS256 cached').toFixed(0)} µs (a hit never reaches the app: the figure is the misses' cost spread over all requests), warm without it ${cpuMedian('warm HS256 cache off').toFixed(0)} µs. B3C gives the cold figure against a bare Koa app.`,
        `Cold runs with the decision cache off (the default): with ${sizes.files} files × ${sizes.tokens} users a (user, file) pair almost never repeats within a run, so a cache could only add work — the "cache on (misses)" row measures that: the auth_request subrequest plus writing an entry nginx never reads again.`,
        "A decision-cache hit is still work for nginx that nginx static does not do: the auth_request subrequest answered from the cache (a cache file read), the secure_link md5 binding the entry to the request's credentials, and one JSON audit line per request.",
      ],
      data: Object.fromEntries(
        [...runs].map(([k, rs]) => [
          k,
          rs.map((r) => ({
            rps: r.wrk.rps,
            requests: r.wrk.requests,
            p50Ms: r.wrk.p50Ms,
            p99Ms: r.wrk.p99Ms,
            appCpuMicrosPerRequest: r.cpuMicrosPerRequest,
            hitRate: r.hitRate,
          })),
        ]),
      ),
    };
  },
};
