// B2: the big download from an S3 store four ways — Sluice nginx mode (nginx proxies a presigned
// URL), a presigned GET straight from S3, Sluice stream mode (Koa pipes S3) and Sluice redirect
// mode (302 to a presigned URL, followed) — with the app's CPU and RSS sampled from /proc. The
// app runs as its own `sluice serve` process (/proc/<pid>, every thread's schedstat), so neither
// the sampler nor the curl spawns of the benchmark process land in its figures.
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { curlGet } from '../lib/clients.js';
import { appUnderTest, startColdPathStack } from '../lib/cold-path.js';
import { BIG, BUCKET, downloadData, s3WithBigFile } from '../lib/download-stack.js';
import { atLeast, atMost } from '../lib/goals.js';
import { deltaOf, idleTreeCpuRate, sampleTree, type ProcSample } from '../lib/proc.js';
import { formatSpread, median, ratio, spread } from '../lib/stats.js';
import type { Chart, Scenario } from '../lib/types.js';
import { s3ClientFor, s3StoreAccess } from '../../test/helpers/swift.js';

const MODES = ['nginx', 'presigned', 'stream', 'redirect'] as const;
type Mode = (typeof MODES)[number];

interface Run {
  readonly mbps: number;
  /** Net of the app's idle CPU over the same time. */
  readonly cpuSeconds: number;
  readonly rawCpuSeconds: number;
  readonly rssGrowthBytes: number;
  readonly samples: readonly ProcSample[];
}

export const b2: Scenario = {
  id: 'B2',
  title: 'Big download, S3 store: nginx mode vs presigned direct vs stream vs redirect',
  async run(ctx) {
    const data = await downloadData(ctx);
    const s3 = await s3WithBigFile(ctx);
    const s3Store = (delivery: string): Record<string, unknown> => ({
      type: 's3',
      delivery,
      bucket: BUCKET,
      ...s3StoreAccess(s3),
    });
    const stack = await startColdPathStack({
      ...(await appUnderTest(ctx)),
      files: 1,
      tokens: 1,
      logLevel: 'warn',
      extraStores: { media: s3Store('nginx'), 'media-stream': s3Store('stream'), 'media-redirect': s3Store('redirect') },
    });
    const base = stack.base;
    const auth = stack.authHeader('HS256');
    const size = data.files[BIG] as number;
    const client = s3ClientFor(s3);
    let idle = 0;
    const once = async (mode: Mode): Promise<Run> => {
      const sampler = sampleTree(stack.appPid, 100);
      const started = performance.now();
      let bytes = 0;
      if (mode === 'presigned') {
        const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: BUCKET, Key: BIG }), { expiresIn: 300 });
        const t = await curlGet(url);
        if (t.status !== 200) throw new Error(`B2 presigned: HTTP ${t.status}`);
        bytes = t.bytes;
      } else if (mode === 'redirect') {
        const hop = await curlGet(`${base}/files/media-redirect/${BIG}`, auth);
        if (hop.status !== 302 || hop.location === '') throw new Error(`B2 redirect: HTTP ${hop.status}`);
        const t = await curlGet(hop.location);
        if (t.status !== 200) throw new Error(`B2 redirect target: HTTP ${t.status}`);
        bytes = t.bytes;
      } else {
        const store = mode === 'nginx' ? 'media' : 'media-stream';
        const t = await curlGet(`${base}/files/${store}/${BIG}`, auth);
        if (t.status !== 200) throw new Error(`B2 ${mode}: HTTP ${t.status}`);
        bytes = t.bytes;
      }
      const seconds = (performance.now() - started) / 1000;
      const samples = sampler.stop();
      if (bytes !== size) throw new Error(`B2 ${mode}: ${bytes} of ${size} bytes`);
      const delta = deltaOf(samples);
      const cpuSeconds = Math.max(0, delta.cpuSeconds - idle * seconds);
      return { mbps: size / seconds / 1e6, cpuSeconds, rawCpuSeconds: delta.cpuSeconds, rssGrowthBytes: delta.rssGrowthBytes, samples };
    };
    const runs: Record<Mode, Run[]> = { nginx: [], presigned: [], stream: [], redirect: [] };
    try {
      await once('nginx'); // warm-up: S3 connection pools, Swift's own caches
      await once('stream');
      idle = await idleTreeCpuRate(stack.appPid, 2000);
      for (let rep = 1; rep <= ctx.profile.reps; rep++) {
        const order = rep % 2 === 1 ? MODES : [...MODES].reverse();
        for (const mode of order) runs[mode].push(await once(mode));
        ctx.progress(`B2 rep ${rep}/${ctx.profile.reps}: ${MODES.map((m) => `${m} ${runs[m].at(-1)?.mbps.toFixed(0)} MB/s`).join(', ')}`);
      }
    } finally {
      client.destroy();
      await stack.stop();
    }
    const gib = size / 2 ** 30;
    const mb = (m: Mode): number => median(runs[m].map((r) => r.mbps));
    const cpuPerGib = (m: Mode): number => median(runs[m].map((r) => r.cpuSeconds / gib));
    const rssGrowth = (m: Mode): number => median(runs[m].map((r) => r.rssGrowthBytes / 1e6));
    const rows = MODES.map((m) => [
      { nginx: 'Sluice nginx mode', presigned: 'presigned GET direct', stream: 'Sluice stream mode', redirect: 'Sluice redirect mode (302 + GET)' }[m],
      formatSpread(spread(runs[m].map((r) => r.mbps))),
      ratio(mb(m), mb('presigned')).toFixed(3),
      formatSpread(spread(runs[m].map((r) => r.cpuSeconds / gib)), 4),
      `${median(runs[m].map((r) => r.cpuSeconds * 1000)).toFixed(2)} / ${median(runs[m].map((r) => r.rawCpuSeconds * 1000)).toFixed(2)}`,
      formatSpread(spread(runs[m].map((r) => r.rssGrowthBytes / 1e6)), 1),
    ]);
    const series = (mode: Mode, pick: (s: ProcSample, first: ProcSample) => number): [number, number][] => {
      const samples = runs[mode][0]?.samples ?? [];
      const first = samples[0];
      return first === undefined ? [] : samples.map((s) => [s.t / 1000, pick(s, first)]);
    };
    const charts: Chart[] = [
      {
        id: 'b2-app-cpu',
        title: 'App CPU during one big S3 download',
        xLabel: 'seconds since request',
        yLabel: 'app CPU seconds used',
        series: (['nginx', 'stream'] as const).map((m) => ({ name: `${m} mode`, points: series(m, (s, f) => s.cpuSeconds - f.cpuSeconds) })),
      },
      {
        id: 'b2-app-rss',
        title: 'App RSS during one big S3 download',
        xLabel: 'seconds since request',
        yLabel: 'app RSS (MB)',
        series: (['nginx', 'stream'] as const).map((m) => ({ name: `${m} mode`, points: series(m, (s) => s.rssBytes / 1e6) })),
      },
    ];
    const cpuShare = ratio(cpuPerGib('nginx'), cpuPerGib('stream'));
    return {
      peers: 'presigned GET straight from S3 (Swift s3api); Sluice stream mode; Sluice redirect mode',
      tables: [
        {
          caption: `${(size / 2 ** 20).toFixed(0)} MiB from S3 (Swift s3api on loopback), curl client, median (min–max) of ${ctx.profile.reps} interleaved runs; app = its own \`sluice serve\` process, /proc/<pid> sampled every 100 ms`,
          columns: ['path', 'MB/s', 'ratio vs presigned', 'app CPU s per GiB (net of idle)', 'app CPU ms per download (net / raw)', 'app RSS growth MB'],
          rows,
        },
      ],
      goals: [
        atLeast('nginx mode ≥ 2× stream mode (MB/s)', ratio(mb('nginx'), mb('stream')), 2),
        atMost('app CPU per GiB, nginx mode ≤ 1% of stream mode', cpuShare * 100, 1, '%', 2),
        atMost('app RSS growth ≤ 10 MB (nginx mode)', rssGrowth('nginx'), 10, ' MB', 1),
      ],
      charts,
      notes: [
        `App CPU is net of the app process's idle rate (${(idle * 1e6).toFixed(0)} µs per second, measured with no request running) over each download's duration; the raw figure is beside it. The presigned row never touches the app: what it shows is the floor of this measurement.`,
        ...(size < 2 ** 30
          ? [
              `This run moved ${(size / 2 ** 20).toFixed(0)} MiB per download: nginx mode's app cost is per request, not per byte (B4), so its CPU "per GiB" here is ${(2 ** 30 / size).toFixed(0)}× what a 1 GiB download shows.`,
            ]
          : []),
      ],
      data: Object.fromEntries(MODES.map((m) => [m, runs[m].map(({ samples, ...rest }) => ({ ...rest, samples: samples.length }))])),
    };
  },
};
