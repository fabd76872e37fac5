// B6: a transform result served from nginx's result cache — every request still authorized by the
// app (signature check, ticket) — next to nginx serving a static file of exactly the same bytes.
// Goal 0.60× (issue 15, with the nginx decision cache on the image routes; BENCH.md first asked
// 0.90). The decision cache exists for fs and S3 download stores only in this version, so every
// cache hit here is still a round trip to the app; the report says so.
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
    const stack = await startImageStack(root, { cache: { enabled: true } }, `location /direct/ {\n    alias "${root}/";\n}`);
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
          }
          else direct.push(await wrk(`${base}/direct/${STATIC}`, { connections: CONNECTIONS, seconds: ctx.profile.wrkSeconds }));
        }
        ctx.progress(`B6 rep ${rep}/${ctx.profile.reps}: cache hit ${sluice.at(-1)?.rps.toFixed(0)} req/s, static ${direct.at(-1)?.rps.toFixed(0)} req/s`);
      }
      // Every counted request must have been a hit: the worker saw nothing new.
      if ((await stack.worker?.renderRequests()) !== rendersBefore) throw new Error('B6: the worker rendered during the cache-hit runs');
    } finally {
      await stack.stop();
    }
    const r = ratio(median(sluice.map((x) => x.rps)), median(direct.map((x) => x.rps)));
    return {
      peers: 'nginx static file with the same bytes, same nginx',
      tables: [
        {
          caption: `${bytes} B JPEG thumbnail; wrk, ${CONNECTIONS} connections, ${ctx.profile.wrkSeconds} s per run, median (min–max) of ${ctx.profile.reps} interleaved runs`,
          columns: ['path', 'req/s', 'p50 ms', 'p99 ms'],
          rows: [
            ['Sluice cache hit (authorized)', formatSpread(spread(sluice.map((x) => x.rps))), formatSpread(spread(sluice.map((x) => x.p50Ms)), 2), formatSpread(spread(sluice.map((x) => x.p99Ms)), 2)],
            ['nginx static', formatSpread(spread(direct.map((x) => x.rps))), formatSpread(spread(direct.map((x) => x.p50Ms)), 2), formatSpread(spread(direct.map((x) => x.p99Ms)), 2)],
          ],
        },
      ],
      goals: [atLeast('req/s ratio cache hit / static ≥ 0.60 (no decision cache on image routes in this version)', r, 0.6)],
      charts: [],
      notes: [
        `App CPU per cache-hit request: ${formatSpread(spread(cpuPerRequest))} µs (median, min–max over runs).`,
        'A cache hit is still a full authorization round trip to the app (signature check, source version lookup) before nginx answers from its cache; the static peer has no such step. The nginx decision cache that lets B3 warm skip that round trip exists for fs and S3 download stores only; image routes do not have it in this version, so B6 runs without it.',
        'The app runs in the benchmark process here (with the transform worker as its own process), so the CPU figure above includes the benchmark process\'s own background (~1% of a core).',
      ],
      data: { bytes, sluice, direct, appCpuMicrosPerRequest: cpuPerRequest },
    };
  },
};
