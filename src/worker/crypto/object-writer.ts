// Where the worker puts an encrypted upload, write-once:
//   fs: a temp file beside the store (same filesystem), hard-linked into place — link() refuses
//       an existing name, so the move is atomic and can never overwrite;
//   s3: refused when the key exists, then a streamed multipart upload (the app also holds a
//       write-once reservation for the key while the upload runs).
import { randomBytes } from 'node:crypto';
import { createWriteStream, promises as fsp } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { StoreConfig } from '../../config/schema.js';
import { PublicError } from '../../errors.js';
import type { CanonicalKey } from '../../storage/types.js';
import { openConfinedDir } from '../../uploads/confined-dir.js';
import { linkIntoStore, UPLOAD_TMP_DIR } from '../../uploads/fs-finalize.js';
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
    // link() refuses an existing name: atomic and write-once; parents are created inside the root only.
    async writeOnce(key, ciphertext, signal) {
      const realRoot = await fsp.realpath(root);
      await writeBesideStore(realRoot, ciphertext, (tmp) => linkIntoStore(realRoot, key, tmp), signal);
    },
  };
}

/**
 * Streams `body` into a new temp file in the store's upload temp dir (same filesystem as the
 * store), then lets `finish` move it into place; the temp name is always removed afterwards.
 * The temp dir is held open meanwhile, so `tmp` names a file in it even if the tree changes; a
 * temp dir that is a symlink is refused (an operator error: never write beside another tree).
 */
export async function writeBesideStore(root: string, body: Readable, finish: (tmp: string) => Promise<void>, signal?: AbortSignal): Promise<void> {
  const tmpDir = await openConfinedDir(await fsp.realpath(root), [UPLOAD_TMP_DIR], true);
  const tmp = `${tmpDir.path}/crypt-${randomBytes(12).toString('hex')}`;
  try {
    await pipeline(body, createWriteStream(tmp, { flags: 'wx', mode: 0o640, flush: true }), { signal });
    await finish(tmp);
  } finally {
    await fsp.rm(tmp, { force: true });
    await tmpDir.close();
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
