// Token bucket: each key holds up to `burst` tokens, refilled at `requestsPerSecond`; a request
// takes one. The same arithmetic runs in Redis (redis-limiter.ts) for shared buckets.
import { LRUCache } from 'lru-cache';
import type { BucketSettings, RateDecision, RateLimiter } from './types.js';

export interface Bucket {
  readonly tokens: number;
  /** When `tokens` was computed, in milliseconds. */
  readonly at: number;
}

export interface TakeResult {
  readonly decision: RateDecision;
  readonly bucket: Bucket;
}

/** One request against a bucket (undefined = a new, full bucket). Pure. */
export function takeToken(bucket: Bucket | undefined, nowMs: number, settings: BucketSettings): TakeResult {
  const elapsed = bucket === undefined ? 0 : Math.max(0, nowMs - bucket.at);
  const tokens = Math.min(settings.burst, (bucket?.tokens ?? settings.burst) + (elapsed * settings.requestsPerSecond) / 1000);
  if (tokens >= 1) return { decision: { allowed: true, retryAfterSeconds: 0 }, bucket: { tokens: tokens - 1, at: nowMs } };
  const waitMs = ((1 - tokens) * 1000) / settings.requestsPerSecond;
  return { decision: { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) }, bucket: { tokens, at: nowMs } };
}

/** Buckets kept in memory; beyond that the least recently used is dropped (= refilled). */
const MAX_BUCKETS = 100_000;

/** Per-process buckets: each app instance limits on its own (N instances allow N times the rate). */
export function createMemoryRateLimiter(settings: BucketSettings, now: () => number = Date.now): RateLimiter {
  const buckets = new LRUCache<string, Bucket>({ max: MAX_BUCKETS });
  return {
    async take(key: string): Promise<RateDecision> {
      const result = takeToken(buckets.get(key), now(), settings);
      buckets.set(key, result.bucket);
      return result.decision;
    },
  };
}
