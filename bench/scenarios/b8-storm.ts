// B8: a transform storm — 64 clients at once, every request a size never asked for before (so no
// cache can help) — against the worker's bounded queue: its RSS peak, the share of 429s, and how
// long until a fresh request succeeds again once the storm stops.
import { atMost } from '../lib/goals.js';
import { imgPath, photoData, PHOTO, startImageStack } from '../lib/image-stack.js';
import { deltaOf, readProc, sampleProcess } from '../lib/proc.js';
import type { Chart, Scenario } from '../lib/types.js';
import { request } from '../../test/helpers/http.js';

const CONCURRENCY = 64;
const STORM_MAX_SECONDS = 60;
const RECOVERY_MAX_SECONDS = 30;

export const b8: Scenario = {
  id: 'B8',
  title: 'Transform storm: unique sizes, 64 concurrent clients',
  async run(ctx) {
    const { root } = await photoData(ctx);
    const stack = await startImageStack(root, { cache: { enabled: false } });
    const worker = stack.worker;
    if (worker === undefined) throw new Error('B8: no worker');
    const { concurrency, queueSize } = stack.config.worker;
    const statuses = new Map<number, number>();
    let next = 0;
    let crashed = false;
    let recoveryMs = Number.NaN;
    const baseline = readProc(worker.pid).rssBytes;
    const sampler = sampleProcess(worker.pid, 100);
    let samples: ReturnType<typeof sampler.stop> = [];
    const total = ctx.profile.stormRequests;
    try {
      const deadline = performance.now() + STORM_MAX_SECONDS * 1000;
      const unique = (): string => {
        const n = next++;
        return imgPath(`rs:fit:${200 + (n % 1500)}:${150 + Math.floor(n / 1500)}`, PHOTO, 'jpg');
      };
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < total && performance.now() < deadline) {
            const res = await request(stack.port, unique()).catch(() => ({ status: 0 }));
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          }
        }),
      );
      const ended = performance.now();
      ctx.progress(`B8 storm done: ${[...statuses].map(([s, n]) => `${n}× ${s}`).join(', ')}`);
      for (;;) {
        const res = await request(stack.port, unique()).catch(() => ({ status: 0 }));
        if (res.status === 200) {
          recoveryMs = performance.now() - ended;
          break;
        }
        if (performance.now() - ended > RECOVERY_MAX_SECONDS * 1000) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const health = await request(worker.port, '/healthz').catch(() => ({ status: 0 }));
      crashed = health.status !== 200;
    } finally {
      samples = sampler.stop();
      await stack.stop();
    }
    const done = [...statuses.values()].reduce((a, b) => a + b, 0);
    const share = (status: number): number => (statuses.get(status) ?? 0) / done;
    const peak = deltaOf(samples).rssPeakBytes;
    // Our bound: the idle worker plus, per concurrent job, three decoded 4K RGBA frames (source,
    // resize buffer, encoder input) — the queue itself holds only request objects.
    const bound = baseline + concurrency * 3 * 3840 * 2160 * 4;
    const charts: Chart[] = [
      {
        id: 'b8-worker-rss',
        title: 'Worker RSS during the transform storm',
        xLabel: 'seconds',
        yLabel: 'worker RSS (MB)',
        series: [
          { name: 'worker RSS', points: samples.map((s) => [s.t / 1000, s.rssBytes / 1e6] as const) },
          {
            name: 'bound',
            points: samples.length
              ? [
                  [0, bound / 1e6],
                  [(samples.at(-1)?.t ?? 0) / 1000, bound / 1e6],
                ]
              : [],
          },
        ],
      },
    ];
    return {
      peers: '— (the worker against itself: concurrency and queue from its config)',
      tables: [
        {
          caption: `${done} requests from ${CONCURRENCY} clients, each a new size (4K JPEG source, JPEG out, cache off); worker concurrency ${concurrency}, queueSize ${queueSize}`,
          columns: ['200', '429', '503', 'other', 'worker RSS idle MB', 'worker RSS peak MB', 'recovery ms', 'worker alive after'],
          rows: [
            [
              `${(share(200) * 100).toFixed(1)}%`,
              `${(share(429) * 100).toFixed(1)}%`,
              `${(share(503) * 100).toFixed(1)}%`,
              `${((1 - share(200) - share(429) - share(503)) * 100).toFixed(1)}%`,
              (baseline / 1e6).toFixed(0),
              (peak / 1e6).toFixed(0),
              Number.isNaN(recoveryMs) ? `> ${RECOVERY_MAX_SECONDS * 1000}` : recoveryMs.toFixed(0),
              crashed ? 'no' : 'yes',
            ],
          ],
        },
      ],
      goals: [
        atMost(`worker RSS peak ≤ idle + concurrency × 3 decoded 4K frames (${(bound / 1e6).toFixed(0)} MB)`, peak / 1e6, bound / 1e6, ' MB', 0),
        {
          goal: 'no crash',
          measured: crashed ? 'worker gone' : 'worker healthy',
          met: !crashed,
          margin: Number.isNaN(recoveryMs) ? 'did not recover' : `recovered in ${recoveryMs.toFixed(0)} ms`,
        },
      ],
      charts,
      notes: [],
      data: { statuses: Object.fromEntries(statuses), baseline, peak, bound, recoveryMs, crashed },
    };
  },
};
