// B6: a transform result served from nginx's result cache, next to nginx serving a static file of
// exactly the same bytes — once with every request authorized by the app (signature check,
// ticket), once with the nginx decision cache on the image routes (transform.decisionCache), which
// reuses the app's allow for its TTL. Goal 0.60× with the decision cache (issue 15; BENCH.md first
// asked 0.90).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { wrk, type WrkResult } from '../lib/clients.js';
import { atLeast } from '../lib/goals.js';
import { imgPath, photoData, PHOTO, startImageStack } from '../lib/image-stack.js';
import { readProc } from '../lib/proc.js';
import { formatSpread, median, ratio, spread } from '../lib/stats.js';
import type { Scenario } from '../lib/types.js';
import { request } from '../../test/helpers/http.js';

const CONNECTIONS = 16;
const STATIC = 'cached-copy.jpg';

export const b6: Scenario = {
  id: 'B6',
  title: 'Transform cache hit vs nginx static file of the same size',
  async run(ctx) {
    const { root } = await photoData(ctx);
    const plain = await measure(ctx, root, {});
    const cached = await measure(ctx, root, { decisionCache: { ttlSeconds: 30 } });
    const r = ratio(median(cached.sluice.map((x) => x.rps)), median(cached.direct.map((x) => x.rps)));
    const plainRatio = ratio(median(plain.sluice.map((x) => x.rps)), median(plain.direct.map((x) => x.rps)));
    const row = (label: string, runs: WrkResult[]): string[] => [
      label,
      formatSpread(spread(runs.map((x) => x.rps))),
      formatSpread(spread(runs.map((x) => x.p50Ms)), 2),
      formatSpread(spread(runs.map((x) => x.p99Ms)), 2),
    ];
    return {
      peers: 'nginx static file with the same bytes, same nginx',
      tables: [
        {
          caption: `${cached.bytes} B JPEG thumbnail; wrk, ${CONNECTIONS} connections, ${ctx.profile.wrkSeconds} s per run, median (min–max) of ${ctx.profile.reps} interleaved runs per stack`,
          columns: ['path', 'req/s', 'p50 ms', 'p99 ms'],
          rows: [
            row('Sluice cache hit, decision cache on (nginx reuses the allow)', cached.sluice),
            row('nginx static (same run)', cached.direct),
            row('Sluice cache hit, every request authorized by the app', plain.sluice),
            row('nginx static (same run)', plain.direct),
          ],
        },
      ],
      goals: [atLeast('req/s ratio cache hit / static ≥ 0.60 (decision cache on the image route)', r, 0.6)],
      charts: [],
      notes: [
        `Without the decision cache the ratio is ${plainRatio.toFixed(2)}×: every hit is still a round trip to the app (signature check, ticket).`,
        `App CPU per cache-hit request: ${formatSpread(spread(cached.cpuPerRequest))} µs with the decision cache, ${formatSpread(spread(plain.cpuPerRequest))} µs without (median, min–max over runs).`,
        "The app runs in the benchmark process here (with the transform worker as its own process), so the CPU figures include the benchmark process's own background (~1% of a core).",
      ],
      data: { bytes: cached.bytes, cached, plain },
    };
  },
};

interface Measured {
  readonly bytes: number;
  readonly sluice: WrkResult[];
  readonly direct: WrkResult[];
  readonly cpuPerRequest: number[];
}

async function measure(ctx: Parameters<Scenario['run']>[0], root: string, transform: Record<string, unknown>): Promise<Measured> {
  const stack = await startImageStack(root, { cache: { enabled: true } }, `location /direct/ {\n    alias "${root}/";\n}`, transform);
  const thumb = imgPath('rs:fit:400:300', PHOTO, 'jpg');
  const sluice: WrkResult[] = [];
  const direct: WrkResult[] = [];
  const cpuPerRequest: number[] = [];
  let bytes = 0;
  try {
    const first = await request(stack.port, thumb);
    if (first.status !== 200) throw new Error(`B6: HTTP ${first.status} ${first.text()}`);
    bytes = first.body.length;
    await writeFile(path.join(root, STATIC), first.body);
    const rendersBefore = await stack.worker?.renderRequests();
    const base = `http://127.0.0.1:${stack.port}`;
    for (let rep = 1; rep <= ctx.profile.reps; rep++) {
      const order = rep % 2 === 1 ? ['sluice', 'direct'] : ['direct', 'sluice'];
      for (const which of order) {
        if (which === 'sluice') {
          const before = readProc(process.pid).cpuSeconds;
          const r = await wrk(`${base}${thumb}`, { connections: CONNECTIONS, seconds: ctx.profile.wrkSeconds });
          cpuPerRequest.push(((readProc(process.pid).cpuSeconds - before) / r.requests) * 1e6);
          sluice.push(r);
        } else direct.push(await wrk(`${base}/direct/${STATIC}`, { connections: CONNECTIONS, seconds: ctx.profile.wrkSeconds }));
      }
      ctx.progress(`B6 rep ${rep}/${ctx.profile.reps}: cache hit ${sluice.at(-1)?.rps.toFixed(0)} req/s, static ${direct.at(-1)?.rps.toFixed(0)} req/s`);
    }
    // Every counted request must have been a hit: the worker saw nothing new.
    if ((await stack.worker?.renderRequests()) !== rendersBefore) throw new Error('B6: the worker rendered during the cache-hit runs');
  } finally {
    await stack.stop();
  }
  return { bytes, sluice, direct, cpuPerRequest };
}
