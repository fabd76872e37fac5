// fs uploads: nginx has already written the whole body to a temp file inside the store's
// UPLOAD_TMP_DIR (same filesystem), so the app never sees the bytes; it only checks that file
// and hard-links it into place. link() refuses an existing name (EEXIST), which makes the move
// atomic AND write-once; nginx (client_body_in_file_only clean) removes the temp name afterwards.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { PublicError } from '../errors.js';
import { isReservedSegment } from '../storage/key.js';
import type { CanonicalKey } from '../storage/types.js';

/** Directory under each fs store's root where nginx writes request bodies. */
export const UPLOAD_TMP_DIR = '.sluice-upload-tmp';

export async function finalizeFsUpload(root: string, key: CanonicalKey, bodyFile: string, maxBytes: number): Promise<number> {
  // canonicalizeKey already refuses reserved segments; a hand-built key must not slip through.
  if (key.segments.some(isReservedSegment)) throw new PublicError(400, 'reserved key');
  const realRoot = await fsp.realpath(root);
  // The header comes from nginx; still, only a plain file directly in the temp dir is accepted.
  const source = path.resolve(bodyFile);
  if (path.dirname(source) !== path.join(realRoot, UPLOAD_TMP_DIR)) throw new Error('request body file is outside the upload temp directory');
  const stats = await fsp.lstat(source);
  if (!stats.isFile()) throw new Error('request body is not a regular file');
  if (stats.size > maxBytes) throw new PublicError(413, 'upload too large');
  const parent = path.join(realRoot, ...key.segments.slice(0, -1));
  await fsp.mkdir(parent, { recursive: true });
  // A symlinked directory inside the store must not lead the new file outside it.
  const realParent = await fsp.realpath(parent);
  if (realParent !== realRoot && !realParent.startsWith(realRoot + path.sep)) throw new PublicError(400, 'key outside the store');
  try {
    await fsp.link(source, path.join(realParent, key.segments[key.segments.length - 1] as string));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new PublicError(409, 'key already written');
    throw error;
  }
  return stats.size;
}
