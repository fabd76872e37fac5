// Builds every configured store once at start-up; a broken fs root stops the boot with a
// message naming the setting.
import type { SluiceConfig } from '../config/schema.js';
import { assertFsRoot, createFsStore } from './fs-store.js';
import { createS3Store } from './s3-store.js';
import type { Store } from './types.js';

export async function createStores(config: SluiceConfig): Promise<ReadonlyMap<string, Store>> {
  const { internalPrefix } = config.nginx;
  const stores = new Map<string, Store>();
  for (const [name, storeConfig] of Object.entries(config.stores)) {
    if (storeConfig.type === 'fs') {
      await assertFsRoot(name, storeConfig);
      stores.set(name, createFsStore(name, storeConfig, internalPrefix));
    } else {
      stores.set(name, createS3Store(name, storeConfig, internalPrefix));
    }
  }
  return stores;
}
