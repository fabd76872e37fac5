// B4: what one download costs the app as the file grows (1 KB … the big file). In nginx mode the
// app only decides; the bytes never pass through it, so CPU per request should not grow with size.
// nginx static runs beside it for the throughput-vs-size chart. The app runs as its own
// `sluice serve` process and its CPU is read from /proc/<pid> (per-thread schedstat, ns
// resolution): the benchmark process's own timers and curl spawns are no longer in the figure.
import { curlRepeat } from '../lib/clients.js';
import { appUnderTest, startColdPathStack } from '../lib/cold-path.js';
import { downloadData } from '../lib/download-stack.js';
import { atMost } from '../lib/goals.js';
import { idleTreeCpuRate } from '../lib/proc.js';
import { formatSpread, median, spread } from '../lib/stats.js';
import type { Chart, Scenario } from '../lib/types.js';

const BYTES_PER_RUN = { tiny: 8 * 2 ** 20, quick: 512 * 2 ** 20, default: 4 * 2 ** 30 } as const;
const MAX_REQUESTS = { tiny: 20, quick: 100, default: 300 } as const;

interface SizeRun {
  readonly requests: number;
  /** Net of the app's background CPU over the same time (from the paired nginx-static run). */
  readonly cpuMicrosPerRequest: number;
  readonly rawCpuMicrosPerRequest: number;
  /** The app's CPU rate during the paired nginx-static run (no request reached it). */
  readonly backgroundMicrosPerSecond: number;
  readonly mbps: number;
  readonly directMbps: number;
}

export const b4: Scenario = {
  id: 'B4',
  title: 'App cost vs download size (nginx mode)',
  async run(ctx) {
    const data = await downloadData(ctx);
    const stack = await startColdPathStack({
      ...(await appUnderTest(ctx)),
      files: 1,
      tokens: 1,
      extraStores: { data: { type: 'fs', root: data.root } },
      extraServerConfig: `location /data-direct/ {\n    alias "${data.root}/";\n}`,
    });
    const base = stack.base;
    const auth = stack.authHeader('HS256');
    const { sizes, reps, name } = ctx.profile;
    const count = (size: number): number => Math.max(2, Math.min(MAX_REQUESTS[name], Math.round(BYTES_PER_RUN[name] / size)));
    const runs = new Map<number, SizeRun[]>();
    const timed = async (url: string, n: number, headers: Record<string, string>): Promise<{ seconds: number; cpu: number }> => {
      const before = stack.cpuSeconds();
      const started = performance.now();
      const statuses = await curlRepeat(url, n, headers);
      const seconds = (performance.now() - started) / 1000;
      if (statuses.length !== n || statuses.some((s) => s !== 200)) throw new Error(`B4 ${url}: statuses ${[...new Set(statuses)].join(',')}`);
      return { seconds, cpu: stack.cpuSeconds() - before };
    };
    const idleRates: number[] = [];
    let idle = 0;
    try {
      for (const size of sizes) await timed(`${base}/files/data/size-${size}.bin`, 1, auth); // warm-up
      idleRates.push(await idleTreeCpuRate(stack.appPid, 2000));
      idle = median(idleRates);
      for (let rep = 1; rep <= reps; rep++) {
        for (const size of sizes) {
          const n = count(size);
          const direct = await timed(`${base}/data-direct/size-${size}.bin`, n, {});
          const sluice = await timed(`${base}/files/data/size-${size}.bin`, n, auth);
          const run: SizeRun = {
            requests: n,
            // The nginx-static run right before is the control: the same transfer, no request to
            // the app. What the app burned during it (its timers — prom-client's event-loop monitor
            // wakes it every 10 ms — on a machine busy moving the bytes) is not the decision's cost.
            cpuMicrosPerRequest: (Math.max(0, sluice.cpu - direct.cpu * (sluice.seconds / direct.seconds)) / n) * 1e6,
            backgroundMicrosPerSecond: (direct.cpu / direct.seconds) * 1e6,
            rawCpuMicrosPerRequest: (sluice.cpu / n) * 1e6,
            mbps: (size * n) / sluice.seconds / 1e6,
            directMbps: (size * n) / direct.seconds / 1e6,
          };
          runs.set(size, [...(runs.get(size) ?? []), run]);
        }
        ctx.progress(`B4 rep ${rep}/${reps}: ${sizes.map((s) => `${s} B ${runs.get(s)?.at(-1)?.cpuMicrosPerRequest.toFixed(0)} µs`).join(', ')}`);
      }
      idleRates.push(await idleTreeCpuRate(stack.appPid, 2000));
    } finally {
      await stack.stop();
    }
    const cpu = (size: number): number => median((runs.get(size) ?? []).map((r) => r.cpuMicrosPerRequest));
    const smallest = sizes[0] as number;
    const largest = sizes[sizes.length - 1] as number;
    const growth = cpu(largest) / cpu(smallest);
    const charts: Chart[] = [
      {
        id: 'b4-throughput',
        title: 'Throughput vs size (sequential, one connection)',
        xLabel: 'file size, bytes (log)',
        yLabel: 'MB/s',
        logX: true,
        series: [
          { name: 'Sluice', points: sizes.map((s) => [s, median((runs.get(s) ?? []).map((r) => r.mbps))] as const) },
          { name: 'nginx static', points: sizes.map((s) => [s, median((runs.get(s) ?? []).map((r) => r.directMbps))] as const) },
        ],
      },
      {
        id: 'b4-cpu',
        title: 'App CPU per request vs size',
        xLabel: 'file size, bytes (log)',
        yLabel: 'app CPU µs per request',
        logX: true,
        series: [{ name: 'Sluice app', points: sizes.map((s) => [s, cpu(s)] as const) }],
      },
    ];
    return {
      peers: 'the same download at 1 KB, 1 MB, 100 MB and the big size (nginx static alongside for throughput)',
      tables: [
        {
          caption: `sequential requests on one keep-alive connection (curl), median (min–max) of ${reps} runs; app = its own \`sluice serve\` process, CPU from /proc/<pid> (schedstat of every thread); net = raw minus the app's background CPU rate during the paired nginx-static run of the same files (no request reaches the app then) over the Sluice run's duration; idle rate with nothing running: ${(idle * 1e6).toFixed(0)} µs/s before the runs, ${((idleRates[1] ?? Number.NaN) * 1e6).toFixed(0)} µs/s after`,
          columns: [
            'size (bytes)',
            'requests per run',
            'app CPU µs/request (net)',
            'raw',
            'app background µs/s (static run)',
            'Sluice MB/s',
            'nginx static MB/s',
          ],
          rows: sizes.map((s) => {
            const rs = runs.get(s) ?? [];
            return [
              String(s),
              String(count(s)),
              formatSpread(spread(rs.map((r) => r.cpuMicrosPerRequest))),
              formatSpread(spread(rs.map((r) => r.rawCpuMicrosPerRequest))),
              formatSpread(spread(rs.map((r) => r.backgroundMicrosPerSecond))),
              formatSpread(spread(rs.map((r) => r.mbps)), 1),
              formatSpread(spread(rs.map((r) => r.directMbps)), 1),
            ];
          }),
        },
      ],
      goals: [atMost(`flat: app CPU per request at ${largest} B ≤ 2× at ${smallest} B (our reading of "O(1) in bytes")`, growth, 2, '×')],
      charts,
      notes: [
        `The app never touches the bytes (nginx sends the file after X-Accel-Redirect), but it is a process with timers: at ${largest} B one request lasts ${(median((runs.get(largest) ?? []).map((r) => largest / (r.mbps * 1e6))) * 1000).toFixed(0)} ms, and the app's background over that time (raw − net) is larger than the decision itself; the paired static run measures that background under the same load, which the idle rate (measured on a quiet machine) understates.`,
      ],
      data: { idleCpuSecondsPerSecond: idleRates, runs: Object.fromEntries(runs) },
    };
  },
};
