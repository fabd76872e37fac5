// The fs and S3 sides of `sluice reencrypt`: list, read, and replace atomically.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { SluiceConfig } from '../config/schema.js';
import { listKeys } from '../ops/audit/checks.js';
import { listSource } from '../ops/migrate/source.js';
import { opsS3Client } from '../ops/s3-client.js';
import { isReservedSegment } from '../storage/key.js';
import { createStores } from '../storage/registry.js';
import type { CanonicalKey } from '../storage/types.js';
import { createS3Uploader } from '../uploads/s3-uploader.js';
import type { ReencryptTarget } from './reencrypt.js';
import { writeBesideStore } from '../worker/crypto/object-writer.js';

export async function reencryptTarget(config: SluiceConfig, name: string): Promise<ReencryptTarget> {
  const settings = config.stores[name];
  if (settings === undefined) throw new Error(`no store named "${name}" (configured: ${Object.keys(config.stores).join(', ')})`);
  if (!settings.encrypted) throw new Error(`store "${name}" is not encrypted`);
  if (settings.type === 's3' && settings.bucketTemplate !== undefined) throw new Error(`store "${name}" uses dynamic buckets, which reencrypt does not list`);
  const store = (await createStores(config)).get(name);
  if (store === undefined) throw new Error(`store "${name}" could not be opened`);
  const keyOf = (key: string): CanonicalKey => ({ segments: key.split('/'), value: key });
  const common = {
    readRange: (key: string, start: number, end: number) => store.read(keyOf(key), { start, end }),
    read: (key: string) => store.read(keyOf(key)),
  };
  if (settings.type === 's3') {
    const uploader = createS3Uploader(settings);
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
      replace: (key, ciphertext) => uploader.uploadStream(key, ciphertext, 'application/octet-stream'),
    };
  }
  const root = await fsp.realpath(settings.root);
  return {
    ...common,
    keys: async () => (await listSource(root)).files.map((file) => file.key).filter((key) => !key.split('/').some(isReservedSegment)),
    // rename() replaces the old file in one step: a reader sees the old or the new object.
    replace: (key, ciphertext) => writeBesideStore(root, ciphertext, (tmp) => fsp.rename(tmp, path.join(root, ...key.split('/')))),
  };
}
