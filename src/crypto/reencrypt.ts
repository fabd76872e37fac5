// `sluice reencrypt`: moves every object of an encrypted store that is not sealed under the
// keyring's newest key onto it. Only each object's 64-byte header is read to decide, so a re-run
// skips what is done (resumable without a manifest); a damaged object is reported, never rewritten.
// A replacement is atomic (fs: temp file + rename; S3: one PutObject/multipart completion), and a
// decryption error aborts it, leaving the old object in place.
import { pipeline } from 'node:stream';
import type { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import pLimit from 'p-limit';
import { DamagedObjectError, HEADER_BYTES, parseHeader } from './format.js';
import type { Keyring } from './keyring.js';
import { decryptStream, encryptStream } from './stream.js';

/** One encrypted store as reencrypt sees it (src/crypto/reencrypt-targets.ts builds fs and S3). */
export interface ReencryptTarget {
  keys(): Promise<string[]>;
  /** Bytes [start, end] of the stored object. */
  readRange(key: string, start: number, end: number): Promise<Readable>;
  read(key: string): Promise<Readable>;
  /** Replaces the object atomically with `ciphertext`. */
  replace(key: string, ciphertext: Readable): Promise<void>;
}

export interface MovedObject {
  readonly key: string;
  readonly from: string;
  readonly to: string;
}

export interface ReencryptProgress {
  readonly total: number;
  readonly done: number;
}

export interface ReencryptOptions {
  readonly concurrency: number;
  readonly dryRun: boolean;
  /** Called after each object moved (the manifest). */
  readonly onMoved?: (moved: MovedObject) => Promise<void>;
  readonly onProgress?: (progress: ReencryptProgress) => void;
}

export interface ReencryptReport {
  readonly moved: number;
  readonly alreadyCurrent: number;
  readonly failed: readonly { readonly key: string; readonly reason: string }[];
  readonly dryRun: boolean;
}

export async function reencryptStore(target: ReencryptTarget, keyring: Keyring, options: ReencryptOptions): Promise<ReencryptReport> {
  const keys = await target.keys();
  const limit = pLimit(options.concurrency);
  const lookup = (id: string) => keyring.get(id);
  let moved = 0;
  let alreadyCurrent = 0;
  let done = 0;
  const failed: { key: string; reason: string }[] = [];
  const one = async (key: string): Promise<void> => {
    const header = parseHeader(await buffer(await target.readRange(key, 0, HEADER_BYTES - 1)));
    if (header.keyId === keyring.current.id) {
      alreadyCurrent += 1;
      return;
    }
    if (keyring.get(header.keyId) === undefined) throw new Error(`sealed under key "${header.keyId}", which the keyring does not hold`);
    if (!options.dryRun) {
      const ciphertext = pipeline(await target.read(key), decryptStream(lookup, key), encryptStream(keyring.current, header.chunkSize, key), () => undefined);
      await target.replace(key, ciphertext);
      await options.onMoved?.({ key, from: header.keyId, to: keyring.current.id });
    }
    moved += 1;
  };
  await Promise.all(
    keys.map((key) =>
      limit(async () => {
        try {
          await one(key);
        } catch (error) {
          failed.push({ key, reason: error instanceof DamagedObjectError ? `damaged: ${error.message}` : (error as Error).message });
        }
        done += 1;
        options.onProgress?.({ total: keys.length, done });
      }),
    ),
  );
  failed.sort((a, b) => (a.key < b.key ? -1 : 1));
  return { moved, alreadyCurrent, failed, dryRun: options.dryRun };
}
