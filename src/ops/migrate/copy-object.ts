// Copies one file to S3 and proves it arrived: the SHA-256 goes up as `x-amz-meta-sha256`, is
// recomputed from the very bytes streamed, and HeadObject must then report the same hash and
// size. Small files go in one PutObject from memory; large ones stream as a multipart upload.
import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { PassThrough, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import mime from 'mime-types';
import type { SourceFile } from './source.js';

/** Up to this size a file is read into memory and sent in one request. */
export const SINGLE_PUT_MAX_BYTES = 8 * 1024 * 1024;
const PART_SIZE = 8 * 1024 * 1024;
export const HASH_METADATA = 'sha256';

export interface CopyTarget {
  readonly client: S3Client;
  readonly bucket: string;
}

export class VerificationError extends Error {}

/** Uploads and verifies; resolves to the SHA-256 (hex) of what is now stored. */
export async function copyAndVerify(target: CopyTarget, file: SourceFile, signal: AbortSignal): Promise<string> {
  const sha256 = file.size <= SINGLE_PUT_MAX_BYTES ? await putSmall(target, file, signal) : await putLarge(target, file, signal);
  await verifyStored(target, file.key, file.size, sha256, signal);
  return sha256;
}

/** HeadObject must show the size and hash the source had. */
export async function verifyStored(target: CopyTarget, key: string, size: number, sha256: string, signal: AbortSignal): Promise<void> {
  const head = await target.client.send(new HeadObjectCommand({ Bucket: target.bucket, Key: key }), { abortSignal: signal });
  if (head.ContentLength !== size) throw new VerificationError(`size mismatch: stored ${head.ContentLength ?? '?'} bytes, source ${size}`);
  const stored = head.Metadata?.[HASH_METADATA];
  if (stored !== sha256) throw new VerificationError(`sha256 mismatch: stored ${stored ?? 'none'}, source ${sha256}`);
}

export async function hashFile(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash, signal === undefined ? {} : { signal });
  return hash.digest('hex');
}

async function putSmall(target: CopyTarget, file: SourceFile, signal: AbortSignal): Promise<string> {
  const body = await fsp.readFile(file.path, { signal });
  if (body.length !== file.size) throw new VerificationError('source changed while copying (size differs)');
  const sha256 = createHash('sha256').update(body).digest('hex');
  await target.client.send(
    new PutObjectCommand({ ...objectParams(target, file, sha256), Body: body, ContentLength: body.length }),
    { abortSignal: signal },
  );
  return sha256;
}

/**
 * The hash must be in the metadata before the first byte goes up, so large files are read
 * twice: once to hash, once to stream; the second read is hashed too, and a difference (the
 * file changed in between) fails the copy.
 */
async function putLarge(target: CopyTarget, file: SourceFile, signal: AbortSignal): Promise<string> {
  const sha256 = await hashFile(file.path, signal);
  const streamedHash = createHash('sha256');
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      streamedHash.update(chunk);
      done(null, chunk);
    },
  });
  const body = new PassThrough();
  const upload = new Upload({
    client: target.client,
    params: { ...objectParams(target, file, sha256), Body: body },
    partSize: PART_SIZE,
    queueSize: 2,
    leavePartsOnError: false,
  });
  const onAbort = (): void => void upload.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.all([pipeline(createReadStream(file.path), tap, body, { signal }), upload.done()]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  if (streamedHash.digest('hex') !== sha256) throw new VerificationError('source changed while copying (hash differs)');
  return sha256;
}

function objectParams(target: CopyTarget, file: SourceFile, sha256: string): { Bucket: string; Key: string; ContentType: string; Metadata: Record<string, string> } {
  return {
    Bucket: target.bucket,
    Key: file.key,
    ContentType: mime.lookup(file.key) || 'application/octet-stream',
    Metadata: { [HASH_METADATA]: sha256 },
  };
}
