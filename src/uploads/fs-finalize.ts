// fs uploads: nginx has already written the whole body to a temp file inside the store's upload
// temp dir (same filesystem), so the app never sees the bytes; the store adopts that file,
// write-once and confined to its root (src/storage/fs-writes.ts). nginx (client_body_in_file_only
// clean) removes the temp name afterwards.
import { notFound } from '../errors.js';
import type { CanonicalKey, Store } from '../storage/types.js';

export { UPLOAD_TMP_DIR } from '../storage/fs-writes.js';

/** Resolves to the size of the stored object. */
export async function finalizeFsUpload(store: Store, key: CanonicalKey, bodyFile: string, maxBytes: number): Promise<number> {
  if (store.directUpload.via !== 'nginx-body-file') throw notFound('unknown store');
  return store.directUpload.adopt(key, bodyFile, maxBytes);
}
