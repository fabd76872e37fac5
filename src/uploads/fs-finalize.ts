// fs uploads: nginx has already written the whole body to a temp file inside the store's
// UPLOAD_TMP_DIR (same filesystem), so the app never sees the bytes; it only checks that file
// and hard-links it into place. link() refuses an existing name (EEXIST), which makes the move
// atomic AND write-once; nginx (client_body_in_file_only clean) removes the temp name afterwards.
// Both directories are held open while linking (see confined-dir.ts): no symlink, and no
// directory created outside the root, whatever the key or a concurrent change to the tree.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { PublicError } from '../errors.js';
import { isReservedSegment } from '../storage/key.js';
import type { CanonicalKey } from '../storage/types.js';
import { openConfinedDir, type ConfinedDir } from './confined-dir.js';
import { publicLeafError, publicWriteError } from './fs-write-errors.js';

/** Directory under each fs store's root where nginx writes request bodies. */
export const UPLOAD_TMP_DIR = '.sluice-upload-tmp';

export async function finalizeFsUpload(root: string, key: CanonicalKey, bodyFile: string, maxBytes: number): Promise<number> {
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
    await linkIntoStore(realRoot, key, held);
    return stats.size;
  } finally {
    await tmpDir.close();
  }
}

/** Links `source` (a file on the store's filesystem) to `key`, creating parents inside the root only. */
export async function linkIntoStore(realRoot: string, key: CanonicalKey, source: string): Promise<void> {
  // canonicalizeKey already refuses reserved segments; a hand-built key must not slip through.
  if (key.segments.some(isReservedSegment)) throw new PublicError(400, 'reserved key');
  let parent: ConfinedDir;
  try {
    parent = await openConfinedDir(realRoot, key.segments.slice(0, -1), true);
  } catch (error) {
    throw publicWriteError(error);
  }
  try {
    const target = `${parent.path}/${key.segments[key.segments.length - 1] as string}`;
    await fsp.link(source, target).catch(async (error: unknown) => {
      const existing = await fsp.lstat(target).catch(() => null);
      throw publicLeafError(error, existing?.isDirectory() === true);
    });
  } finally {
    await parent.close();
  }
}
