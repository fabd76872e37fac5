// The fs and S3 sides of `sluice reencrypt`: list, then read and replace through the store
// itself (its put() replaces atomically, confined to the root on fs).
import { promises as fsp } from 'node:fs';
import type { Readable } from 'node:stream';
import type { SluiceConfig } from '../config/schema.js';
import { listKeys } from '../ops/audit/checks.js';
import { listSource } from '../ops/migrate/source.js';
import { opsS3Client } from '../ops/s3-client.js';
import { isReservedSegment, storedKey } from '../storage/key.js';
import { createStores } from '../storage/registry.js';
import type { ReencryptTarget } from './reencrypt.js';

export async function reencryptTarget(config: SluiceConfig, name: string): Promise<ReencryptTarget> {
  const settings = config.stores[name];
  if (settings === undefined) throw new Error(`no store named "${name}" (configured: ${Object.keys(config.stores).join(', ')})`);
  if (!settings.encrypted) throw new Error(`store "${name}" is not encrypted`);
  if (settings.type === 's3' && settings.bucketTemplate !== undefined) throw new Error(`store "${name}" uses dynamic buckets, which reencrypt does not list`);
  const store = (await createStores(config)).get(name);
  if (store === undefined) throw new Error(`store "${name}" could not be opened`);
  const common = {
    readRange: (key: string, start: number, end: number) => store.read(storedKey(key), { start, end }),
    read: (key: string) => store.read(storedKey(key)),
    // fs: temp file + fsync + rename() under the root, so a reader sees the old or the new object; s3: one PutObject or multipart completion.
    replace: (key: string, ciphertext: Readable) => store.put(storedKey(key), ciphertext, { contentType: 'application/octet-stream', mode: 'replace' }),
  };
  if (settings.type === 's3') {
    return {
      ...common,
      keys: async () => {
        const client = opsS3Client(settings);
        try {
          return await listKeys(client, settings.bucket);
        } finally {
          client.destroy();
        }
      },
    };
  }
  const root = await fsp.realpath(settings.root);
  return {
    ...common,
    keys: async () => (await listSource(root)).files.map((file) => file.key).filter((key) => !key.split('/').some(isReservedSegment)),
  };
}
