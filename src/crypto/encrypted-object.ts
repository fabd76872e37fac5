// Worker side: an encrypted object of any store, read as plaintext. Only the header and the
// chunks covering the wanted range are fetched (an S3 Range request, or a positioned disk read).
import { pipeline, type Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { notFound } from '../errors.js';
import { refusedWrites } from '../storage/read-only.js';
import type { ByteRange, CanonicalKey, ObjectInfo, Store } from '../storage/types.js';
import { chunkSpan, DamagedObjectError, HEADER_BYTES, objectKey, parseHeader, plaintextSize, type DamageReason, type ObjectHeader } from './format.js';
import { UnknownKeyError, type KeyLookup } from './keys.js';
import { decryptChunks } from './stream.js';

export interface EncryptedObject {
  readonly header: ObjectHeader;
  readonly plainSize: number;
  /** Strong validator: the header's random salt, new on every write. */
  readonly etag: string;
  readonly lastModified?: Date;
  /**
   * The plaintext (of `range` when given). Resolves only after the first chunk verified, so
   * damage found at the start is an error before any byte is sent; later damage errors the stream.
   */
  read(range?: ByteRange): Promise<Readable>;
}

/** null when the object does not exist. Throws DamagedObjectError or UnknownKeyError. */
export async function openEncryptedObject(store: Store, key: CanonicalKey, keys: KeyLookup): Promise<EncryptedObject | null> {
  const info = await store.stat(key);
  if (info === null) return null;
  if (info.size < HEADER_BYTES) throw new DamagedObjectError('encrypted object is shorter than its header', 'size');
  const header = parseHeader(await buffer(await store.read(key, { start: 0, end: HEADER_BYTES - 1 })));
  const dataKey = keys(header.keyId);
  if (dataKey === undefined) throw new UnknownKeyError(header.keyId);
  const plainSize = plaintextSize(info.size, header.chunkSize);
  const aesKey = objectKey(dataKey, header);
  return {
    header,
    plainSize,
    etag: `"${header.salt.toString('base64url')}"`,
    ...(info.lastModified !== undefined && { lastModified: info.lastModified }),
    async read(range?: ByteRange): Promise<Readable> {
      const span = chunkSpan(range?.start ?? 0, range?.end ?? Math.max(plainSize - 1, 0), plainSize, header.chunkSize);
      const ciphertext = await store.read(key, { start: span.cipherStart, end: span.cipherEnd });
      const plaintext = pipeline(ciphertext, decryptChunks({ header, key: aesKey, name: key.value, ...span }), () => undefined);
      return verifiedFirst(plaintext);
    },
  };
}

/** Waits for the first verified bytes (or the verified end) before handing the stream out. */
async function verifiedFirst(source: Readable): Promise<Readable> {
  await new Promise<void>((resolve, reject) => {
    const settle = (error?: Error): void => {
      source.off('readable', onReadable);
      source.off('error', settle);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onReadable = (): void => settle();
    source.on('readable', onReadable);
    source.once('error', settle);
  });
  // Without a 'readable' listener the stream flows again as soon as it is piped.
  return source;
}

export interface DecryptingStoreOptions {
  /** Remember opened objects (stat then read costs one header fetch): for a store that lives for one request. */
  readonly perRequest?: boolean;
  /**
   * Called exactly once for every object that fails verification or names an unknown key,
   * wherever that surfaces: opening it, before the first byte, or mid-stream after headers went
   * out (where no error can reach the client or an error handler any more).
   */
  readonly onIntegrityFailure?: (failure: IntegrityFailure) => void;
}

/** An object that could not be served verified. Names and reasons only: no bytes, no key material. */
export interface IntegrityFailure {
  readonly store: string;
  readonly key: string;
  readonly reason: DamageReason | 'unknown_key';
  /** The chunk that failed; null when the failure is not in a chunk (header, size, key). */
  readonly chunk: number | null;
  /** The error's message (a fixed text per failure kind). */
  readonly detail: string;
  /** For `unknown_key`: the key id the header names (an identifier, not a secret). */
  readonly keyId?: string;
}

/** The failure an error stands for, or null when it is not one (storage errors, client aborts). */
export function integrityFailureOf(error: unknown, store: string, key: string): IntegrityFailure | null {
  if (error instanceof DamagedObjectError) return { store, key, reason: error.reason, chunk: error.chunk ?? null, detail: error.message };
  if (error instanceof UnknownKeyError) return { store, key, reason: 'unknown_key', chunk: null, detail: error.message, keyId: error.keyId };
  return null;
}

/** Errors already handed to a hook: stat and read of one request share one failed open. */
const reported = new WeakSet<object>();

/**
 * A Store that answers with plaintext: what the worker serves downloads and reads transform
 * sources from. Delivery methods are refused — nobody redirects to a decrypted object.
 */
export function decryptingStore(inner: Store, keys: KeyLookup, options: DecryptingStoreOptions = {}): Store {
  const opened = new Map<string, Promise<EncryptedObject | null>>();
  const report = (error: unknown, key: CanonicalKey): void => {
    if (options.onIntegrityFailure === undefined || typeof error !== 'object' || error === null || reported.has(error)) return;
    const failure = integrityFailureOf(error, inner.name, key.value);
    if (failure === null) return;
    reported.add(error);
    options.onIntegrityFailure(failure);
  };
  /** Runs `step`, reporting an integrity failure it throws before passing the error on. */
  const watched = async <T>(key: CanonicalKey, step: () => Promise<T>): Promise<T> => {
    try {
      return await step();
    } catch (error) {
      report(error, key);
      throw error;
    }
  };
  const open = (key: CanonicalKey): Promise<EncryptedObject | null> => {
    if (!options.perRequest) return openEncryptedObject(inner, key, keys);
    const known = opened.get(key.value) ?? openEncryptedObject(inner, key, keys);
    opened.set(key.value, known);
    return known;
  };
  const refuse = (): never => {
    throw new Error(`store "${inner.name}" is encrypted: no direct delivery`);
  };
  return {
    name: inner.name,
    kind: inner.kind,
    encrypted: true,
    delivery: inner.delivery,
    cacheControl: inner.cacheControl,
    accelTarget: async () => refuse(),
    presignedUrl: async () => refuse(),
    async stat(key): Promise<ObjectInfo | null> {
      const object = await watched(key, () => open(key));
      return object === null
        ? null
        : { size: object.plainSize, etag: object.etag, ...(object.lastModified !== undefined && { lastModified: object.lastModified }) };
    },
    async read(key, range) {
      const plaintext = await watched(key, async () => {
        const object = await open(key);
        if (object === null) throw notFound();
        return object.read(range);
      });
      // Damage past the first chunk surfaces here, possibly after the response headers went out.
      plaintext.on('error', (error) => report(error, key));
      return plaintext;
    },
    // A plaintext view: writing through it would store plaintext in an encrypted store.
    ...refusedWrites(inner.name),
    check: () => inner.check(),
  };
}
