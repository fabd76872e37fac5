// The one key-value contract behind all state Sluice keeps between requests (share links,
// revocations, counted links, upload reservations, the decision cache, rate-limit buckets).
// Two adapters: Redis (redis-kv.ts, shared by every instance) and memory (memory-kv.ts, one
// process). Features never branch on which one they got, except where only shared state is
// correct (`shared`).
import type { BucketSettings, RateDecision } from './token-bucket.js';

/**
 * When an entry goes away: at an instant (`at`, seconds since the epoch, as tokens and links
 * carry it) or after `ttlSeconds`; null = kept until deleted (memory: or evicted by its bound).
 */
export type Expiry = { readonly at: number } | { readonly ttlSeconds: number } | null;

export interface WriteOptions {
  /**
   * Answer only once the write reached the replicas `redis.waitForReplicas` asks for, so a
   * failover cannot lose it; otherwise reject (callers answer 503). For what must never be
   * forgotten: uses of counted links, revocations.
   */
  readonly durable?: boolean;
}

/** Rejections: the store could not answer (Redis unreachable, timed out, or a durable write unconfirmed). */
export interface KeyValueState {
  /** True when every app instance sees the same entries (Redis). */
  readonly shared: boolean;
  get(key: string): Promise<string | null>;
  /**
   * One round trip. On Redis Cluster the keys must share a hash slot: give keys read together
   * one hash tag (`{…}`), as the decision cache does.
   */
  getMany(keys: readonly string[]): Promise<(string | null)[]>;
  set(key: string, value: string, expiry: Expiry, options?: WriteOptions): Promise<void>;
  /** SET NX: true when `key` was free and now holds `value`. */
  setIfAbsent(key: string, value: string, expiry: Expiry): Promise<boolean>;
  delete(key: string): Promise<void>;
  /**
   * Atomically adds one to the counter at `key` unless it has reached `limit`; true when this
   * call counted. The counter gets `expiry` when created. A durable count that is not
   * confirmed is taken back before the rejection, so an unconfirmed use is never spent.
   */
  incrementBelow(key: string, limit: number, expiry: Expiry, options?: WriteOptions): Promise<boolean>;
  /** The counter at `key` (0 when absent). */
  counter(key: string): Promise<number>;
  /**
   * Takes one token from the bucket at `key`. The only compound operation here: read, refill
   * and take must be one atomic step across instances (a Lua script on Redis, on Redis's
   * clock); a get-then-set over this interface would let concurrent requests take the same token.
   */
  takeToken(key: string, settings: BucketSettings): Promise<RateDecision>;
}

/** Seconds since the epoch → milliseconds of the entry's expiry, or Infinity for none. */
export function expiresAtMs(expiry: Expiry, nowMs: number): number {
  if (expiry === null) return Infinity;
  return 'at' in expiry ? expiry.at * 1000 : nowMs + expiry.ttlSeconds * 1000;
}
