// The crypt half of the worker tier, built at start-up: the keyring is unlocked here (the master
// password is read once), the routes and a plaintext view of encrypted stores for transform sources.
import type Router from '@koa/router';
import type { SluiceConfig } from '../../config/schema.js';
import type { Store } from '../../storage/types.js';
import { decryptingStore } from '../encrypted-object.js';
import type { DataKey } from '../keys.js';
import { loadKeyring } from '../password.js';
import { createObjectWriter } from './object-writer.js';
import { cryptRoutes } from './routes.js';

/**
 * Encrypted stores: unlock the keyring (the master password is read once, here) and build the
 * crypt routes, plus a plaintext view of those stores for transform sources. null without any.
 */
export async function createCryptTier(config: SluiceConfig, stores: ReadonlyMap<string, Store>, secret: string): Promise<{ routes: Router; plaintextStores: ReadonlyMap<string, Store> } | null> {
  const encrypted = Object.entries(config.stores).filter(([, store]) => store.encrypted);
  if (encrypted.length === 0) return null;
  const keyring = await loadKeyring(config.encryption);
  const keys = (id: string): DataKey | undefined => keyring.get(id);
  const uploadStores = new Set(config.uploads.enabled ? (config.uploads.stores ?? Object.keys(config.stores)) : []);
  const writers = new Map(encrypted.filter(([name]) => uploadStores.has(name)).map(([name, store]) => [name, createObjectWriter(store)] as const));
  const routes = cryptRoutes({ secret, stores, keys, writers, currentKey: () => keyring.current, chunkSize: config.encryption.chunkSize, maxBytes: config.uploads.maxBytes });
  const plaintextStores = new Map([...stores].map(([name, store]) => [name, store.encrypted ? decryptingStore(store, keys) : store] as const));
  return { routes, plaintextStores };
}

