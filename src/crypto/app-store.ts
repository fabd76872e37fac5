// The app's view of an encrypted store: it decides, it never decrypts. A download becomes an
// X-Accel-Redirect to the crypt location with a signed ticket; nginx hands that to the worker.
import type { SluiceConfig } from '../config/schema.js';
import { assertWorkerSecret } from '../config/worker-schema.js';
import { cryptLocation } from '../contract/nginx-locations.js';
import { CRYPT_TICKET_HEADER } from '../contract/tickets.js';
import { refusedWrites } from '../storage/read-only.js';
import type { AccelTarget, CanonicalKey, Store } from '../storage/types.js';
import { signCryptTicket } from './ticket.js';

export function encryptedDelivery(inner: Store, workerSecret: string, internalPrefix: string): Store {
  const location = cryptLocation(internalPrefix);
  const refuse = (): never => {
    throw new Error(`store "${inner.name}" is encrypted: only the worker reads its bytes`);
  };
  return {
    name: inner.name,
    kind: inner.kind,
    encrypted: true,
    delivery: 'nginx',
    cacheControl: inner.cacheControl,
    async accelTarget(key: CanonicalKey): Promise<AccelTarget> {
      return { location, headers: { [CRYPT_TICKET_HEADER]: signCryptTicket({ op: 'read', store: inner.name, segments: key.segments }, workerSecret) } };
    },
    presignedUrl: async () => refuse(),
    read: async () => refuse(),
    // Ciphertext metadata: existence, and an ETag that changes with every write (transform cache keys).
    stat: (key) => inner.stat(key),
    // The app never writes an encrypted store: uploads go through the worker, which encrypts.
    ...refusedWrites(inner.name),
    check: () => inner.check(),
  };
}

/** The app's stores: encrypted ones delivered through the worker, the rest as they are. */
export function withEncryptedDelivery(stores: ReadonlyMap<string, Store>, config: SluiceConfig): ReadonlyMap<string, Store> {
  if (![...stores.values()].some((store) => store.encrypted)) return stores;
  const secret = assertWorkerSecret(config.worker);
  return new Map([...stores].map(([name, store]) => [name, store.encrypted ? encryptedDelivery(store, secret, config.nginx.internalPrefix) : store] as const));
}
