// The write side of an fs store. Every write is confined to the real root: directories are
// walked one held handle at a time (confined-dir.ts), never through a symlink, and never created
// outside the root. Bytes first go to a temp file in the store's upload temp dir (same
// filesystem), are fsynced, then move into place in one step:
//   create: link(), which refuses an existing name: atomic AND write-once;
//   replace: rename(), which swaps the name: a reader sees the old object or the new one.
import { randomBytes } from 'node:crypto';
import { createWriteStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { badRequest, PublicError } from '../errors.js';
import { openConfinedDir, codeOf, type ConfinedDir } from './confined-dir.js';
import { publicLeafError, publicWriteError } from './fs-write-errors.js';
import { isReservedSegment } from './key.js';
import type { CanonicalKey, NginxBodyUpload, PutBody, PutOptions } from './types.js';

/** Directory under each fs store's root for bodies on their way in (nginx's and put()'s temp files). */
export const UPLOAD_TMP_DIR = '.sluice-upload-tmp';

/** Prefix of put()'s temp files (nginx names its own with digits only). */
export const PUT_TMP_PREFIX = 'put-';

const FILE_MODE = 0o640;

/**
 * Writes `body` to `key` under `root`. Keys that cannot name a file inside the root (`..`,
 * empty segments, separators, reserved names) are a 400, whoever built them.
 */
export async function putFile(root: string, key: CanonicalKey, body: PutBody, options: PutOptions): Promise<void> {
  assertConfinedKey(key);
  const realRoot = await fsp.realpath(root);
  // A temp dir that is a symlink is refused (an operator error): never write beside another tree.
  const tmpDir = await openConfinedDir(realRoot, [UPLOAD_TMP_DIR], true);
  const tmp = `${tmpDir.path}/${PUT_TMP_PREFIX}${randomBytes(12).toString('hex')}`;
  try {
    await writeDurably(tmp, body, options.signal);
    options.signal?.throwIfAborted();
    await placeFile(realRoot, key, tmp, options.mode);
  } finally {
    // After a link the temp name is a second name of the object; after a rename it is gone.
    await fsp.rm(tmp, { force: true });
    await tmpDir.close();
  }
}

/** Removes the file at `key`; a missing file (or parent) is not an error. */
export async function deleteFile(root: string, key: CanonicalKey): Promise<void> {
  assertConfinedKey(key);
  const realRoot = await fsp.realpath(root);
  let parent: ConfinedDir;
  try {
    parent = await openConfinedDir(realRoot, key.segments.slice(0, -1), false);
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return;
    throw publicWriteError(error);
  }
  try {
    const target = `${parent.path}/${leafOf(key)}`;
    await fsp.unlink(target).catch(async (error: unknown) => {
      if (codeOf(error) === 'ENOENT') return;
      const existing = await fsp.lstat(target).catch(() => null);
      throw publicLeafError(error, existing?.isDirectory() === true);
    });
  } finally {
    await parent.close();
  }
}

/** fs direct uploads: nginx wrote the body into `<root>/UPLOAD_TMP_DIR`; the app links it into place. */
export function nginxBodyUpload(root: string): NginxBodyUpload {
  return {
    via: 'nginx-body-file',
    async adopt(key, bodyFile, maxBytes) {
      assertConfinedKey(key);
      const realRoot = await fsp.realpath(root);
      // The header comes from nginx; still, only a plain file directly in the temp dir is accepted.
      const source = path.resolve(bodyFile);
      if (path.dirname(source) !== path.join(realRoot, UPLOAD_TMP_DIR)) throw new Error('request body file is outside the upload temp directory');
      // A misplaced temp dir (a symlink) is the operator's fault: a plain 500, not the client's.
      const tmpDir = await openConfinedDir(realRoot, [UPLOAD_TMP_DIR], false);
      try {
        const held = `${tmpDir.path}/${path.basename(source)}`;
        const stats = await fsp.lstat(held);
        if (!stats.isFile()) throw new Error('request body is not a regular file');
        if (stats.size > maxBytes) throw new PublicError(413, 'upload too large');
        // nginx (client_body_in_file_only clean) removes the temp name afterwards.
        await placeFile(realRoot, key, held, 'create');
        return stats.size;
      } finally {
        await tmpDir.close();
      }
    },
  };
}

/** Moves `source` (a file on the store's filesystem) to `key`, creating parents inside the root only. */
async function placeFile(realRoot: string, key: CanonicalKey, source: string, mode: PutOptions['mode']): Promise<void> {
  let parent: ConfinedDir;
  try {
    parent = await openConfinedDir(realRoot, key.segments.slice(0, -1), true);
  } catch (error) {
    throw publicWriteError(error);
  }
  try {
    const target = `${parent.path}/${leafOf(key)}`;
    await (mode === 'create' ? fsp.link(source, target) : fsp.rename(source, target)).catch(async (error: unknown) => {
      const existing = await fsp.lstat(target).catch(() => null);
      throw publicLeafError(error, existing?.isDirectory() === true);
    });
    await parent.sync();
  } finally {
    await parent.close();
  }
}

/** A new file (never an existing one) holding `body`, fsynced before it is closed. */
async function writeDurably(file: string, body: PutBody, signal: AbortSignal | undefined): Promise<void> {
  const options = { flags: 'wx', mode: FILE_MODE, flush: true } as const;
  if (body instanceof Uint8Array) {
    await fsp.writeFile(file, body, { flag: options.flags, mode: options.mode, flush: true, ...(signal !== undefined && { signal }) });
    return;
  }
  await pipeline(body, createWriteStream(file, options), signal === undefined ? {} : { signal });
}

/**
 * canonicalizeKey guarantees all of this for request keys; keys built from a listing or a
 * record are checked here, because this is where they become paths.
 */
function assertConfinedKey(key: CanonicalKey): void {
  if (key.segments.length === 0) throw badRequest('empty key');
  for (const segment of key.segments) {
    if (segment === '' || segment === '.' || segment === '..') throw badRequest('dot or empty segment in key');
    if (/[/\\\u0000]/.test(segment)) throw badRequest('separator in key segment');
    if (isReservedSegment(segment)) throw badRequest('reserved key');
  }
}

function leafOf(key: CanonicalKey): string {
  return key.segments[key.segments.length - 1] as string;
}
