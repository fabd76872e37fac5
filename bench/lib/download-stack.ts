// The download stack shared by B1–B4: one big random file on an fs store (and, when asked, the
// same bytes in S3 behind three stores — nginx, stream and redirect delivery), the Sluice app
// in-process (so /proc/self is the app) and nginx from Sluice's own rendered config, plus a plain
// static `location /direct/` on the same nginx as the no-auth peer.
import { createReadStream } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startStack, type Stack } from '../../test/helpers/stack.js';
import { s3ClientFor, startSwiftS3, type S3TestServer, s3StoreAccess } from '../../test/helpers/swift.js';
import { makeTokens, writeRandomFile, type BenchTokens } from './fixtures.js';
import type { Context } from './types.js';

export const BUCKET = 'bench';
export const BIG = 'big.bin';

/** Files B1–B4 download: name → size. */
export function fileSet(ctx: Context): Record<string, number> {
  const files: Record<string, number> = { [BIG]: ctx.profile.bigBytes, 'small-10k.bin': 10 * 1000 };
  for (const size of ctx.profile.sizes) files[`size-${size}.bin`] = size;
  return files;
}

export interface DownloadData {
  readonly root: string;
  readonly files: Record<string, number>;
}

export function downloadData(ctx: Context): Promise<DownloadData> {
  return ctx.shared('download-data', async () => {
    const root = path.join(ctx.workDir, 'store');
    await mkdir(root, { recursive: true });
    await chmod(ctx.workDir, 0o755);
    const files = fileSet(ctx);
    for (const [name, size] of Object.entries(files)) {
      if (size >= 64 * 1024 * 1024) ctx.progress(`writing ${name} (${(size / 2 ** 20).toFixed(0)} MiB)`);
      await writeRandomFile(path.join(root, name), size);
    }
    return { root, files };
  });
}

/** Swift s3api with the big file uploaded once. */
export function s3WithBigFile(ctx: Context): Promise<S3TestServer> {
  return ctx.shared(
    's3',
    async () => {
      const data = await downloadData(ctx);
      ctx.progress('starting Swift s3api');
      const s3 = await startSwiftS3();
      const client = s3ClientFor(s3);
      try {
        await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
        ctx.progress(`uploading ${BIG} to S3`);
        const size = data.files[BIG] as number;
        await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: BIG, Body: createReadStream(path.join(data.root, BIG)), ContentLength: size }));
      } finally {
        client.destroy();
      }
      return s3;
    },
    (s3) => s3.stop(),
  );
}

export interface DownloadStack {
  readonly stack: Stack;
  readonly base: string;
  readonly tokens: BenchTokens;
  readonly data: DownloadData;
  readonly s3?: S3TestServer;
}

export async function startDownloadStack(ctx: Context, withS3: boolean): Promise<DownloadStack> {
  const data = await downloadData(ctx);
  const s3 = withS3 ? await s3WithBigFile(ctx) : undefined;
  const tokens = await ctx.shared('tokens', makeTokens);
  const s3Store = (delivery: string): Record<string, unknown> | undefined =>
    s3 && {
      type: 's3',
      delivery,
      bucket: BUCKET,
      ...s3StoreAccess(s3),
    };
  const stores: Record<string, unknown> = { files: { type: 'fs', root: data.root } };
  if (s3 !== undefined) {
    stores.media = s3Store('nginx');
    stores['media-stream'] = s3Store('stream');
    stores['media-redirect'] = s3Store('redirect');
  }
  const stack = await startStack(
    { stores, auth: tokens.authConfig, rules: [{ key: '*rest', when: [{ authenticated: true }] }] },
    { logLevel: 'warn', extraServerConfig: `location /direct/ {\n    alias "${data.root}/";\n}` },
  );
  return { stack, base: `http://127.0.0.1:${stack.port}`, tokens, data, ...(s3 !== undefined && { s3 }) };
}
