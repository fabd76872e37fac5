// The crypt half of the worker tier, built at start-up: the keyring is unlocked here (the master
// password is read once), the routes and a plaintext view of encrypted stores for transform sources.
import type Router from '@koa/router';
import type { Counter } from 'prom-client';
import type { SluiceConfig } from '../../config/schema.js';
import type { Logger } from '../../observability/logger.js';
import type { Store } from '../../storage/types.js';
import type { SourceStoreLookup } from '../transform/source.js';
import { decryptingStore } from '../../crypto/encrypted-object.js';
import type { DataKey } from '../../crypto/keys.js';
import { loadKeyring } from '../../crypto/password.js';
import { createIntegrityReporter, initIntegrityCounter } from './integrity.js';
import { cryptRoutes } from './routes.js';

export interface CryptTierObservers {
  readonly logger: Logger;
  /** sluice_worker_crypt_integrity_failures_total of the worker's registry. */
  readonly integrityFailures: Counter<'store' | 'reason'>;
}

/**
 * Encrypted stores: unlock the keyring (the master password is read once, here) and build the
 * crypt routes, plus the lookup transform sources are read through (encrypted stores as plaintext).
 * null without any.
 */
export async function createCryptTier(
  config: SluiceConfig,
  stores: ReadonlyMap<string, Store>,
  secret: string,
  observers: CryptTierObservers,
): Promise<{ routes: Router; sourceStore: SourceStoreLookup } | null> {
  const encrypted = Object.entries(config.stores).filter(([, store]) => store.encrypted);
  if (encrypted.length === 0) return null;
  const keyring = await loadKeyring(config.encryption);
  const keys = (id: string): DataKey | undefined => keyring.get(id);
  const uploadStores = new Set(config.uploads.enabled ? (config.uploads.stores ?? Object.keys(config.stores)) : []);
  const writers = new Map([...stores].filter(([name, store]) => store.encrypted && uploadStores.has(name)));
  initIntegrityCounter(
    observers.integrityFailures,
    encrypted.map(([name]) => name),
  );
  const integrity = createIntegrityReporter(observers.logger, observers.integrityFailures);
  const routes = cryptRoutes({
    secret,
    stores,
    keys,
    integrity,
    writers,
    currentKey: () => keyring.current,
    chunkSize: config.encryption.chunkSize,
    maxBytes: config.uploads.maxBytes,
  });
  // A fresh view per fetch: the source's stat and read then share one header fetch.
  const sourceStore: SourceStoreLookup = (name) => {
    const store = stores.get(name);
    return store?.encrypted
      ? decryptingStore(store, keys, { perRequest: true, onIntegrityFailure: (failure) => integrity(failure, { use: 'transform-source' }) })
      : store;
  };
  return { routes, sourceStore };
}
