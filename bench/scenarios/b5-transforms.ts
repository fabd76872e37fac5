// B5: 4K JPEG → fit 400×300, rendered on every request (nginx result cache off), through nginx →
// app → worker, in JPEG, WebP and AVIF; next to nginx's image_filter (JPEG) on the same source and
// the vipsthumbnail CLI (time per image, one image at a time).
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { wrk, type WrkResult } from '../lib/clients.js';
import { atLeast, atMost } from '../lib/goals.js';
import { imgPath, photoData, PHOTO, startImageFilterNginx, startImageStack } from '../lib/image-stack.js';
import { formatSpread, median, ratio, spread } from '../lib/stats.js';
import type { Scenario } from '../lib/types.js';

const execFileAsync = promisify(execFile);
const PEERS = ['Sluice JPEG', 'Sluice WebP', 'Sluice AVIF', 'nginx image_filter JPEG'] as const;
type Peer = (typeof PEERS)[number];
const CONCURRENCY = 2;

export const b5: Scenario = {
  id: 'B5',
  title: 'Transforms 4K → 400×300: Sluice vs nginx image_filter vs vipsthumbnail',
  async run(ctx) {
    const { root, photo, bytes } = await photoData(ctx);
    const stack = await startImageStack(root, { cache: { enabled: false }, queueSize: 64 });
    const filter = await startImageFilterNginx(root, stack.dir).catch(async (error: unknown) => {
      await stack.stop();
      throw error;
    });
    const seconds = Math.max(2, ctx.profile.wrkSeconds);
    const url = (peer: Peer): string =>
      peer === 'nginx image_filter JPEG'
        ? `http://127.0.0.1:${filter.port}/thumb/${PHOTO}`
        : `http://127.0.0.1:${stack.port}${imgPath('rs:fit:400:300', PHOTO, { 'Sluice JPEG': 'jpg', 'Sluice WebP': 'webp', 'Sluice AVIF': 'avif' }[peer])}`;
    const out = path.join(stack.dir, 'vips-out.jpg');
    const vipsOnce = async (): Promise<number> => {
      const started = performance.now();
      await execFileAsync('vipsthumbnail', [photo, '--size', '400x300', '-o', `${out}[Q=80]`], { timeout: 30_000 });
      return performance.now() - started;
    };
    const results = new Map<Peer, WrkResult[]>();
    const sluiceSerialMs: number[] = [];
    const vipsMs: number[] = [];
    try {
      for (const peer of PEERS) await wrk(url(peer), { connections: 1, seconds: 1 }); // warm-up
      for (let rep = 1; rep <= ctx.profile.reps; rep++) {
        const order = rep % 2 === 1 ? PEERS : [...PEERS].reverse();
        for (const peer of order) results.set(peer, [...(results.get(peer) ?? []), await wrk(url(peer), { connections: CONCURRENCY, seconds })]);
        // One image at a time: Sluice's full path vs the CLI (process start included, as a user would run it).
        sluiceSerialMs.push((await wrk(url('Sluice JPEG'), { connections: 1, seconds })).p50Ms);
        const batch: number[] = [];
        for (let i = 0; i < 5; i++) batch.push(await vipsOnce());
        vipsMs.push(median(batch));
        ctx.progress(
          `B5 rep ${rep}/${ctx.profile.reps}: ${PEERS.map((p) => `${p} ${results.get(p)?.at(-1)?.rps.toFixed(1)} img/s`).join(', ')}; vipsthumbnail ${vipsMs.at(-1)?.toFixed(0)} ms`,
        );
      }
    } finally {
      await filter.process.stop();
      await stack.stop();
    }
    const rps = (p: Peer): number => median((results.get(p) ?? []).map((r) => r.rps));
    const vsFilter = ratio(rps('Sluice JPEG'), rps('nginx image_filter JPEG'));
    const vsVips = ratio(median(sluiceSerialMs), median(vipsMs));
    return {
      peers: 'nginx image_filter (Debian libnginx-mod-http-image-filter, JPEG q80); vipsthumbnail CLI (Debian libvips-tools, JPEG Q=80)',
      tables: [
        {
          caption: `source ${(bytes / 1e6).toFixed(1)} MB JPEG; wrk, ${CONCURRENCY} connections, ${seconds} s per run, median (min–max) of ${ctx.profile.reps} interleaved runs`,
          columns: ['renderer', 'img/s', 'p50 ms', 'p99 ms', 'img/s ratio vs image_filter'],
          rows: PEERS.map((p) => {
            const rs = results.get(p) ?? [];
            return [
              p,
              formatSpread(spread(rs.map((r) => r.rps)), 1),
              formatSpread(spread(rs.map((r) => r.p50Ms))),
              formatSpread(spread(rs.map((r) => r.p99Ms))),
              ratio(rps(p), rps('nginx image_filter JPEG')).toFixed(2),
            ];
          }),
        },
        {
          caption: 'one image at a time: Sluice JPEG p50 (whole HTTP path) vs vipsthumbnail wall time (process start included)',
          columns: ['renderer', 'ms per image', 'ratio'],
          rows: [
            ['Sluice JPEG (c=1 p50)', formatSpread(spread(sluiceSerialMs), 1), vsVips.toFixed(2)],
            ['vipsthumbnail CLI', formatSpread(spread(vipsMs), 1), '1'],
          ],
        },
      ],
      goals: [atLeast('JPEG img/s ≥ 1.2× image_filter', vsFilter, 1.2), atMost('time per image ≤ 1.3× vipsthumbnail', vsVips, 1.3, '×')],
      charts: [],
      notes: ['Anchor: imgproxy 2024 on 2 vCPU, fit 512: JPEG 79.6, WebP 22.0, AVIF 13.2 req/s (a different source image and machine; quoted for scale only).'],
      data: { sourceBytes: bytes, wrk: Object.fromEntries(results), sluiceSerialMs, vipsMs },
    };
  },
};
