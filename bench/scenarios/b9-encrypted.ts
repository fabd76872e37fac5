// B9: encrypted stores. The same big file downloaded from an encrypted store (nginx → worker:
// fetch ciphertext, verify, decrypt) next to the plain store nginx serves itself, for fs and S3;
// then the latency of a 1 MiB Range slice at random offsets of the big encrypted object (the
// worker fetches only the covering chunks) next to the same slice of the plain file.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createKeyring, openKeyring } from '../../src/crypto/keyring.js';
import { ciphertextSize } from '../../src/crypto/format.js';
import { encryptStream } from '../../src/crypto/stream.js';
import { startStack } from '../../test/helpers/stack.js';
import { s3ClientFor, s3StoreAccess } from '../../test/helpers/swift.js';
import { curlGet } from '../lib/clients.js';
import { BIG, BUCKET, downloadData, s3WithBigFile } from '../lib/download-stack.js';
import { makeTokens } from '../lib/fixtures.js';
import { atLeast, atMost } from '../lib/goals.js';
import { formatSpread, percentile, ratio, spread } from '../lib/stats.js';
import type { Scenario } from '../lib/types.js';

const PASSWORD = 'bench master password';
const WORKER_SECRET = 'bench-worker-secret-0123456789abcdefghij';
const SLICE = 1024 * 1024;
const ENCRYPTED_KEY = `encrypted/${BIG}`;

export const b9: Scenario = {
  id: 'B9',
  title: 'Encrypted store: download throughput and 1 MiB Range latency vs plain nginx offload',
  async run(ctx) {
    const data = await downloadData(ctx);
    const s3 = await s3WithBigFile(ctx);
    const size = data.files[BIG] as number;
    const encRoot = path.join(ctx.workDir, 'encrypted-store');
    await mkdir(encRoot, { recursive: true });
    const keyringFile = path.join(ctx.workDir, 'bench-keyring.json');
    await createKeyring(keyringFile, PASSWORD, { id: 'bench' });
    const dataKey = (await openKeyring(keyringFile, PASSWORD)).current;
    ctx.progress(`B9: encrypting ${BIG} into the encrypted fs store and S3`);
    // The store key is bound into the ciphertext: one encryption per name.
    const encrypt = (name: string, file: string) =>
      pipeline(createReadStream(path.join(data.root, BIG)), encryptStream(dataKey, 64 * 1024, name), createWriteStream(file));
    await encrypt(BIG, path.join(encRoot, BIG));
    const forS3 = path.join(ctx.workDir, 'encrypted-for-s3.bin');
    await encrypt(ENCRYPTED_KEY, forS3);
    const client = s3ClientFor(s3);
    try {
      await client.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: ENCRYPTED_KEY, Body: createReadStream(forS3), ContentLength: ciphertextSize(size, 64 * 1024) }),
      );
    } finally {
      client.destroy();
      await rm(forS3, { force: true });
    }
    const tokens = await ctx.shared('tokens', makeTokens);
    const s3Store = {
      type: 's3',
      bucket: BUCKET,
      ...s3StoreAccess(s3),
    };
    const stack = await startStack(
      {
        stores: {
          files: { type: 'fs', root: data.root },
          vault: { type: 'fs', root: encRoot, encrypted: true },
          media: s3Store,
          cloud: { ...s3Store, encrypted: true },
        },
        auth: tokens.authConfig,
        rules: [{ key: '*rest', when: [{ authenticated: true }] }],
        worker: { secret: WORKER_SECRET },
        encryption: { keyringFile, passwordFile: '/dev/fd/3' },
      },
      { logLevel: 'warn', worker: true, workerPassword: PASSWORD },
    );
    const base = `http://127.0.0.1:${stack.port}/files`;
    const paths = { fsPlain: `${base}/files/${BIG}`, fsEnc: `${base}/vault/${BIG}`, s3Plain: `${base}/media/${BIG}`, s3Enc: `${base}/cloud/${ENCRYPTED_KEY}` };
    const mbps: Record<keyof typeof paths, number[]> = { fsPlain: [], fsEnc: [], s3Plain: [], s3Enc: [] };
    const rangeMs: Record<'fsPlain' | 'fsEnc' | 's3Enc', number[]> = { fsPlain: [], fsEnc: [], s3Enc: [] };
    const get = async (url: string, headers: Record<string, string> = {}, expected = size) => {
      const t = await curlGet(url, { ...tokens.hs256, ...headers });
      const wanted = headers.Range === undefined ? 200 : 206;
      if (t.status !== wanted || t.bytes !== expected) throw new Error(`B9 ${url}: HTTP ${t.status}, ${t.bytes} bytes`);
      return t;
    };
    const reps = Math.max(ctx.profile.reps, 2);
    const slices = ctx.profile.name === 'default' ? 30 : 8;
    try {
      for (const url of Object.values(paths)) await get(url); // warm-up: page cache, connections
      for (let rep = 1; rep <= reps; rep++) {
        const order = (rep % 2 === 1 ? Object.keys(paths) : Object.keys(paths).reverse()) as (keyof typeof paths)[];
        for (const which of order) mbps[which].push((await get(paths[which])).mbps);
        ctx.progress(
          `B9 rep ${rep}/${reps}: fs plain ${mbps.fsPlain.at(-1)?.toFixed(0)} / encrypted ${mbps.fsEnc.at(-1)?.toFixed(0)} MB/s; s3 plain ${mbps.s3Plain.at(-1)?.toFixed(0)} / encrypted ${mbps.s3Enc.at(-1)?.toFixed(0)} MB/s`,
        );
      }
      for (let i = 0; i < slices; i++) {
        // Random offsets (not chunk-aligned), the same for every path.
        const start = Math.floor(Math.random() * (size - SLICE));
        const range = { Range: `bytes=${start}-${start + SLICE - 1}` };
        for (const which of ['fsPlain', 'fsEnc', 's3Enc'] as const) rangeMs[which].push((await get(paths[which], range, SLICE)).seconds * 1000);
      }
    } finally {
      await stack.stop();
    }
    const med = (xs: number[]): number => spread(xs).median;
    const fsRatio = ratio(med(mbps.fsEnc), med(mbps.fsPlain));
    const s3Ratio = ratio(med(mbps.s3Enc), med(mbps.s3Plain));
    const p50 = (xs: number[]): string => percentile(xs, 50).toFixed(1);
    const p95 = (xs: number[]): string => percentile(xs, 95).toFixed(1);
    const mib = (size / 2 ** 20).toFixed(0);
    return {
      peers: 'the same bytes in a plain store, sent by nginx itself (sendfile for fs, proxied presigned GET for S3)',
      tables: [
        {
          caption: `${mib} MiB download, curl client, MB/s (10^6 B/s), median (min–max) of ${reps} interleaved runs`,
          columns: ['store', 'plain (nginx offload)', 'encrypted (worker)', 'ratio encrypted/plain'],
          rows: [
            ['fs', formatSpread(spread(mbps.fsPlain)), formatSpread(spread(mbps.fsEnc)), fsRatio.toFixed(3)],
            ['s3 (Swift s3api)', formatSpread(spread(mbps.s3Plain)), formatSpread(spread(mbps.s3Enc)), s3Ratio.toFixed(3)],
          ],
        },
        {
          caption: `1 MiB Range slice at ${slices} random offsets of the ${mib} MiB object, curl time_total, ms`,
          columns: ['path', 'p50', 'p95'],
          rows: [
            ['plain fs (nginx)', p50(rangeMs.fsPlain), p95(rangeMs.fsPlain)],
            ['encrypted fs (worker)', p50(rangeMs.fsEnc), p95(rangeMs.fsEnc)],
            ['encrypted s3 (worker, S3 Range request)', p50(rangeMs.s3Enc), p95(rangeMs.s3Enc)],
          ],
        },
      ],
      goals: [
        atLeast('encrypted fs download ≥ 0.25× plain nginx sendfile', fsRatio, 0.25, '×', 3),
        atMost('1 MiB Range of the encrypted S3 object, p50 ≤ 100 ms', percentile(rangeMs.s3Enc, 50), 100, ' ms', 1),
      ],
      charts: [],
      notes: [
        'Encrypted bytes pass through one Node process (the worker): AES-256-GCM per 64 KiB chunk, a chunk sent only after its tag verified.',
        'A Range read fetches the header (64 B) and only the chunks covering the slice — at most 2 × 64 KiB more than asked for.',
      ],
      data: { bytes: size, mbps, rangeMs },
    };
  },
};
