// Copies one file to S3 and proves it arrived: the SHA-256 goes up as `x-amz-meta-sha256`, is
// recomputed from the very bytes streamed, and the object's head must then report the same hash
// and size. Writes go through the s3 store's write side (src/storage/s3-writes.ts): small files
// in one PutObject from memory, large ones streamed as a multipart upload.
import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { pipeline as pipe, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import mime from 'mime-types';
import { storedKey } from '../../storage/key.js';
import { s3Writes } from '../../storage/s3-writes.js';
import type { StoreWrites } from '../../storage/types.js';
import type { SourceFile } from './source.js';

/** Up to this size a file is read into memory and sent in one request. */
export const SINGLE_PUT_MAX_BYTES = 8 * 1024 * 1024;
export const HASH_METADATA = 'sha256';

export interface CopyTarget {
  readonly client: S3Client;
  readonly bucket: string;
}

export class VerificationError extends Error {}

/** Operator commands pass their own client (operator profile) and a plain bucket. */
function writesOf(target: CopyTarget): StoreWrites {
  return s3Writes(target.client, (key) => ({ Bucket: target.bucket, Key: key }), false);
}

/** Uploads and verifies; resolves to the SHA-256 (hex) of what is now stored. */
export async function copyAndVerify(target: CopyTarget, file: SourceFile, signal: AbortSignal): Promise<string> {
  const sha256 = file.size <= SINGLE_PUT_MAX_BYTES ? await putSmall(target, file, signal) : await putLarge(target, file, signal);
  await verifyStored(target, file.key, file.size, sha256, signal);
  return sha256;
}

/** The object's head must show the size and hash the source had. */
export async function verifyStored(target: CopyTarget, key: string, size: number, sha256: string, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  const head = await writesOf(target).head(storedKey(key));
  if (head === null) throw new VerificationError('object missing');
  if (head.size !== size) throw new VerificationError(`size mismatch: stored ${head.size} bytes, source ${size}`);
  const stored = head.metadata[HASH_METADATA];
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
  await writesOf(target).put(storedKey(file.key), body, { ...putOptions(file, sha256), signal });
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
  // A read error destroys the tap, which fails (and aborts) the upload.
  const body = pipe(createReadStream(file.path), tap, () => undefined);
  await writesOf(target).put(storedKey(file.key), body, { ...putOptions(file, sha256), signal });
  if (streamedHash.digest('hex') !== sha256) throw new VerificationError('source changed while copying (hash differs)');
  return sha256;
}

function putOptions(file: SourceFile, sha256: string): { contentType: string; metadata: Record<string, string>; mode: 'replace' } {
  return { contentType: mime.lookup(file.key) || 'application/octet-stream', metadata: { [HASH_METADATA]: sha256 }, mode: 'replace' };
}
