// First measurement for the core gateway: a 1 GiB download through Sluice (nginx mode) next to
// the same bytes without Sluice — nginx serving the file directly (fs) and a presigned GET
// straight from the S3 server (s3). Runs interleaved (A B A B …), reports medians.
//   node --import tsx bench/download-1gib.ts [--runs N]
// The full benchmark suite (all scenarios, reports, charts) is a separate piece of work.
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { startStack } from '../test/helpers/stack.js';
import { startSwiftS3, s3ClientFor } from '../test/helpers/swift.js';
import { bearer, testAuthConfig } from '../test/helpers/tokens.js';

const execFileAsync = promisify(execFile);
const SIZE = 1024 * 1024 * 1024;
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;

/** curl is the client: cheap enough on 2 cores not to be the bottleneck itself. */
async function megabytesPerSecond(url: string, headers: Record<string, string> = {}): Promise<number> {
  const args = ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{size_download} %{speed_download}'];
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}: ${value}`);
  const { stdout } = await execFileAsync('curl', [...args, url]);
  const [status, size, speed] = stdout.trim().split(' ');
  if (status !== '200' || Number(size) !== SIZE) throw new Error(`${url}: HTTP ${status}, ${size} bytes`);
  return Number(speed) / 1e6;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function writeBigFile(file: string): Promise<Buffer> {
  const chunk = randomBytes(64 * 1024 * 1024);
  const out = createWriteStream(file);
  for (let written = 0; written < SIZE; written += chunk.length) {
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return chunk;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-bench-'));
  await chmod(dir, 0o755);
  const root = path.join(dir, 'store');
  await mkdir(root);
  process.stderr.write('writing a 1 GiB file…\n');
  const chunk = await writeBigFile(path.join(root, 'big.bin'));
  process.stderr.write('starting Swift s3api…\n');
  const s3 = await startSwiftS3();
  const client = s3ClientFor(s3);
  await client.send(new CreateBucketCommand({ Bucket: 'bench' }));
  const body = Buffer.concat(Array.from({ length: SIZE / chunk.length }, () => chunk));
  process.stderr.write('uploading 1 GiB to S3…\n');
  await client.send(new PutObjectCommand({ Bucket: 'bench', Key: 'big.bin', Body: body, ContentLength: SIZE }));
  const stack = await startStack(
    {
      stores: {
        files: { type: 'fs', root },
        media: { type: 's3', bucket: 'bench', endpoint: s3.endpoint, forcePathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      },
      auth: testAuthConfig,
      rules: [{ key: '*rest', when: [{ authenticated: true }] }],
    },
    { logLevel: 'warn', extraServerConfig: `location /direct/ {\n    alias "${root}/";\n}` },
  );
  const auth = await bearer('bench');
  const base = `http://127.0.0.1:${stack.port}`;
  const results: Record<string, number[]> = { 'fs via Sluice': [], 'fs nginx direct': [], 's3 via Sluice': [], 's3 presigned direct': [] };
  try {
    // Warm-up (not counted): page cache and connection pools, so run 1 is not a cold outlier.
    await megabytesPerSecond(`${base}/files/files/big.bin`, auth);
    await megabytesPerSecond(`${base}/files/media/big.bin`, auth);
    for (let run = 1; run <= RUNS; run++) {
      results['fs via Sluice']!.push(await megabytesPerSecond(`${base}/files/files/big.bin`, auth));
      results['fs nginx direct']!.push(await megabytesPerSecond(`${base}/direct/big.bin`));
      results['s3 via Sluice']!.push(await megabytesPerSecond(`${base}/files/media/big.bin`, auth));
      const presigned = await getSignedUrl(client, new GetObjectCommand({ Bucket: 'bench', Key: 'big.bin' }), { expiresIn: 60 });
      results['s3 presigned direct']!.push(await megabytesPerSecond(presigned));
      process.stderr.write(`run ${run}/${RUNS} done\n`);
    }
  } finally {
    await stack.stop();
    await s3.stop();
    await rm(dir, { recursive: true, force: true });
  }
  const lines = Object.entries(results).map(
    ([name, xs]) => `| ${name} | ${median(xs).toFixed(0)} | ${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)} |`,
  );
  const fsRatio = median(results['fs via Sluice']!) / median(results['fs nginx direct']!);
  const s3Ratio = median(results['s3 via Sluice']!) / median(results['s3 presigned direct']!);
  process.stdout.write(
    [`1 GiB download, ${RUNS} interleaved runs after one warm-up, MB/s (10^6 bytes/s), curl client on loopback`, '', '| path | median | min–max |', '|---|---|---|', ...lines, '', `fs ratio Sluice/direct: ${fsRatio.toFixed(3)}`, `s3 ratio Sluice/direct: ${s3Ratio.toFixed(3)}`, ''].join('\n'),
  );
}

await main();
