// Rate limiters over the key-value state: one bucket per key, in Redis (shared by every instance,
// an atomic script on Redis's clock) or in memory (each instance limits on its own).
import { MemoryKeyValueState } from '../state/memory-kv.js';
import type { KeyValueState } from '../state/kv.js';
import type { SharedState } from '../state/shared-state.js';
import type { BucketSettings, RateLimiter } from './types.js';

const PREFIX = 'sluice:ratelimit:';

/** Buckets kept in memory; beyond that the least recently used is dropped (= refilled). */
const MEMORY_MAX_BUCKETS = 100_000;

export function createRateLimiter(settings: BucketSettings, state: SharedState): RateLimiter {
  return limiterOver(state.space(PREFIX, { maxEntries: MEMORY_MAX_BUCKETS }), settings);
}

/** Per-process buckets: each app instance limits on its own (N instances allow N times the rate). */
export function createMemoryRateLimiter(settings: BucketSettings, now: () => number = Date.now): RateLimiter {
  return limiterOver(new MemoryKeyValueState({ maxEntries: MEMORY_MAX_BUCKETS, now }), settings);
}

// The bucket update is the state's own atomic operation (KeyValueState.takeToken), so the limiter
// never holds a Redis client and both adapters run the same arithmetic (src/state/token-bucket.ts).
function limiterOver(buckets: KeyValueState, settings: BucketSettings): RateLimiter {
  return { take: (key) => buckets.takeToken(key, settings) };
}
