// Key-value state in process memory (lru-cache): correct for ONE app instance. Each feature gets
// its own store with its own bound: least recently used entries go first beyond `maxEntries`,
// expired ones are swept by lru-cache's TTL purge. `maxEntries: null` bounds a store by time
// only — for revocations, which must never be forgotten early (entries still expire, and their
// lifetime is capped by the token and link lifetime limits).
import { LRUCache } from 'lru-cache';
import { expiresAtMs, type Expiry, type KeyValueState } from './kv.js';
import { bucketLifetimeMs, takeToken, type Bucket, type BucketSettings, type RateDecision } from './token-bucket.js';

export interface MemoryStateOptions {
  /** null: no size bound, entries leave only by expiry. 0: nothing is kept. */
  readonly maxEntries: number | null;
  /** Clock in milliseconds since the epoch (tests inject one). */
  readonly now?: () => number;
}

interface Entry {
  readonly value: string | Bucket;
  /** Milliseconds since the epoch; Infinity = no expiry. */
  readonly expiresAt: number;
}

/** lru-cache requires a bound of some kind: a store bounded by time only gets this default TTL. */
const TIME_ONLY_DEFAULT_TTL_MS = 366 * 86_400_000;

export class MemoryKeyValueState implements KeyValueState {
  readonly shared = false;
  private readonly entries: LRUCache<string, Entry> | null;
  private readonly now: () => number;

  constructor(options: MemoryStateOptions) {
    this.now = options.now ?? Date.now;
    const bound = options.maxEntries === null ? { ttl: TIME_ONLY_DEFAULT_TTL_MS } : { max: options.maxEntries };
    this.entries = options.maxEntries === 0 ? null : new LRUCache<string, Entry>({ ...bound, ttlAutopurge: true, ttlResolution: 0, perf: { now: this.now } });
  }

  /** Entries held (expired ones not yet swept included). */
  get size(): number {
    return this.entries?.size ?? 0;
  }

  async get(key: string): Promise<string | null> {
    const value = this.live(key)?.value;
    return typeof value === 'string' ? value : null;
  }

  async getMany(keys: readonly string[]): Promise<(string | null)[]> {
    return Promise.all(keys.map((key) => this.get(key)));
  }

  async set(key: string, value: string, expiry: Expiry): Promise<void> {
    this.put(key, value, expiresAtMs(expiry, this.now()));
  }

  async setIfAbsent(key: string, value: string, expiry: Expiry): Promise<boolean> {
    if (this.live(key) !== undefined) return false;
    return this.put(key, value, expiresAtMs(expiry, this.now()));
  }

  async delete(key: string): Promise<void> {
    this.entries?.delete(key);
  }

  async incrementBelow(key: string, limit: number, expiry: Expiry): Promise<boolean> {
    const entry = this.live(key);
    const count = entry === undefined ? 0 : Number(entry.value);
    if (count >= limit) return false;
    return this.put(key, String(count + 1), entry?.expiresAt ?? expiresAtMs(expiry, this.now()));
  }

  async counter(key: string): Promise<number> {
    const value = this.live(key)?.value;
    return typeof value === 'string' ? Number(value) : 0;
  }

  async takeToken(key: string, settings: BucketSettings): Promise<RateDecision> {
    const now = this.now();
    const value = this.live(key)?.value;
    const result = takeToken(typeof value === 'object' ? value : undefined, now, settings);
    this.put(key, result.bucket, now + bucketLifetimeMs(settings));
    return result.decision;
  }

  /** The entry unless it has expired; the expiry checked here is the one that counts, so an entry is gone at exactly its expiry, as in Redis. */
  private live(key: string): Entry | undefined {
    const entry = this.entries?.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > this.now()) return entry;
    this.entries?.delete(key);
    return undefined;
  }

  /** False when the entry would have expired already (then nothing is stored, as in Redis). */
  private put(key: string, value: string | Bucket, expiresAt: number): boolean {
    const ttl = expiresAt - this.now();
    if (ttl <= 0) {
      this.entries?.delete(key);
      return false;
    }
    this.entries?.set(key, { value, expiresAt }, { ttl: Number.isFinite(ttl) ? Math.ceil(ttl) : 0 });
    return true;
  }
}
