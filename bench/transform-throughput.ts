// Image transform throughput through the whole path: nginx → app (signature check, ticket) →
// X-Accel-Redirect → worker (sharp) → nginx. The nginx cache is off, so every request renders.
// Source: a synthetic 4K JPEG (3840×2160: gradients, shapes and grain); result: fit 400×300 in
// JPEG, WebP and AVIF at the worker's configured settings. Reports img/s, p50 and p99 per format.
//   node --import tsx bench/transform-throughput.ts [--seconds 15] [--concurrency 2]
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { request } from '../test/helpers/http.js';
import { startStack } from '../test/helpers/stack.js';
import { signImgproxyPath } from '../test/helpers/worker.js';

const arg = (name: string, fallback: number): number => {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? Number(process.argv[index + 1]) : fallback;
};
const SECONDS = arg('seconds', 15);
const CONCURRENCY = arg('concurrency', 2);
const KEY = '736563726574';
const SALT = '68656c6c6f';
const FORMATS = ['jpg', 'webp', 'avif'] as const;

async function writeSource(file: string): Promise<number> {
  const width = 3840;
  const height = 2160;
  // Smooth gradients and soft shapes with grain: compresses like a photo, not like noise or flat colour.
  const shapes = Array.from({ length: 40 }, (_, i) => {
    const x = (i * 977) % width;
    const y = (i * 613) % height;
    const r = 80 + ((i * 37) % 400);
    return `<circle cx="${x}" cy="${y}" r="${r}" fill="hsl(${(i * 47) % 360},60%,55%)" fill-opacity="0.55"/>`;
  }).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#1d3557"/><stop offset="0.5" stop-color="#a8dadc"/><stop offset="1" stop-color="#e63946"/></linearGradient>
    <filter id="b"><feGaussianBlur stdDeviation="12"/></filter></defs>
    <rect width="100%" height="100%" fill="url(#g)"/><g filter="url(#b)">${shapes}</g></svg>`;
  const grain = await sharp({ create: { width, height, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 18 } } }).png().toBuffer();
  const info = await sharp(Buffer.from(svg))
    .composite([{ input: grain, blend: 'overlay' }])
    .jpeg({ quality: 90 })
    .toFile(file);
  return info.size;
}

interface Result {
  readonly format: string;
  readonly images: number;
  readonly seconds: number;
  readonly p50: number;
  readonly p99: number;
  readonly bytes: number;
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] as number;

/** CONCURRENCY clients in a closed loop for SECONDS; each request a distinct cache buster. */
async function measure(port: number, format: string): Promise<Result> {
  const latencies: number[] = [];
  let bytes = 0;
  let counter = 0;
  const one = async (): Promise<void> => {
    const url = signImgproxyPath(`/rs:fit:400:300/cb:${format}-${counter++}/plain/local:///photo-4k.jpg@${format}`, KEY, SALT);
    const started = performance.now();
    const res = await request(port, `/img${url}`);
    if (res.status !== 200) throw new Error(`${format}: HTTP ${res.status} ${res.text()}`);
    latencies.push(performance.now() - started);
    bytes = res.body.length;
  };
  for (let i = 0; i < CONCURRENCY; i++) await one(); // warm-up: first-use costs are not throughput
  latencies.length = 0;
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline) await one();
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const sorted = [...latencies].sort((a, b) => a - b);
  return { format, images: latencies.length, seconds, p50: percentile(sorted, 50), p99: percentile(sorted, 99), bytes };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-bench-img-'));
  await chmod(dir, 0o755);
  const root = path.join(dir, 'store');
  await mkdir(root);
  process.stderr.write('writing a 4K JPEG…\n');
  const sourceBytes = await writeSource(path.join(root, 'photo-4k.jpg'));
  const stack = await startStack(
    {
      stores: { photos: { type: 'fs', root } },
      transform: { enabled: true, keys: [KEY], salts: [SALT], localStore: 'photos' },
      worker: { secret: 'bench-worker-secret-0123456789abcdef0123', queueSize: 64, cache: { enabled: false } },
    },
    { worker: true, logLevel: 'warn' },
  );
  const { worker } = stack.config;
  process.stderr.write(
    `worker: concurrency ${worker.concurrency}, vipsThreads ${worker.vipsThreads}, quality ${JSON.stringify(worker.defaultQuality)} (empty: jpeg 80, webp 79, avif 63), avifEffort ${worker.avifEffort}; ` +
      `${CONCURRENCY} clients, ${SECONDS} s per format, ${os.availableParallelism()} cores\n`,
  );
  const results: Result[] = [];
  try {
    for (const format of FORMATS) {
      process.stderr.write(`measuring ${format}…\n`);
      results.push(await measure(stack.port, format));
    }
  } finally {
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  }
  const lines = [
    `4K JPEG (3840×2160, ${(sourceBytes / 1e6).toFixed(1)} MB) → fit 400×300, through nginx + app + worker, cache off`,
    '| format | img/s | p50 ms | p99 ms | result bytes | images |',
    '|---|---:|---:|---:|---:|---:|',
    ...results.map((r) => `| ${r.format} | ${(r.images / r.seconds).toFixed(1)} | ${r.p50.toFixed(0)} | ${r.p99.toFixed(0)} | ${r.bytes} | ${r.images} |`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
