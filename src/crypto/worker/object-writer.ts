// Where the worker puts an encrypted upload, write-once:
//   fs: a temp file beside the store (same filesystem), hard-linked into place — link() refuses
//       an existing name, so the move is atomic and can never overwrite;
//   s3: refused when the key exists, then a streamed multipart upload (the app also holds a
//       write-once reservation for the key while the upload runs).
import { randomBytes } from 'node:crypto';
import { createWriteStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { StoreConfig } from '../../config/schema.js';
import { PublicError } from '../../errors.js';
import type { CanonicalKey } from '../../storage/types.js';
import { finalizeFsUpload, UPLOAD_TMP_DIR } from '../../uploads/fs-finalize.js';
import { createS3Uploader } from '../../uploads/s3-uploader.js';

export interface ObjectWriter {
  /** Stores `ciphertext` under `key` unless the key exists (409). */
  writeOnce(key: CanonicalKey, ciphertext: Readable, signal: AbortSignal): Promise<void>;
}

const alreadyWritten = (): PublicError => new PublicError(409, 'key already written');

export function createObjectWriter(config: StoreConfig): ObjectWriter {
  return config.type === 'fs' ? fsWriter(config.root) : s3Writer(createS3Uploader(config));
}

function fsWriter(root: string): ObjectWriter {
  return {
    // link() refuses an existing name: atomic and write-once.
    writeOnce: (key, ciphertext, signal) => writeBesideStore(root, ciphertext, (tmp) => finalizeFsUpload(root, key, tmp, Number.MAX_SAFE_INTEGER).then(() => undefined), signal),
  };
}

/**
 * Streams `body` into a new temp file in the store's upload temp dir (same filesystem as the
 * store), then lets `finish` move it into place; the temp name is always removed afterwards.
 */
export async function writeBesideStore(root: string, body: Readable, finish: (tmp: string) => Promise<void>, signal?: AbortSignal): Promise<void> {
  const tmpDir = path.join(await fsp.realpath(root), UPLOAD_TMP_DIR);
  await fsp.mkdir(tmpDir, { recursive: true });
  const tmp = path.join(tmpDir, `crypt-${randomBytes(12).toString('hex')}`);
  try {
    await pipeline(body, createWriteStream(tmp, { flags: 'wx', mode: 0o640, flush: true }), { signal });
    await finish(tmp);
  } finally {
    await fsp.rm(tmp, { force: true });
  }
}

function s3Writer(uploader: ReturnType<typeof createS3Uploader>): ObjectWriter {
  return {
    async writeOnce(key, ciphertext, signal) {
      if ((await uploader.sizeOf(key.value)) !== null) throw alreadyWritten();
      await uploader.uploadStream(key.value, ciphertext, 'application/octet-stream', signal);
    },
  };
}
