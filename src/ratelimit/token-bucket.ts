// Token bucket: each key holds up to `burst` tokens, refilled at `requestsPerSecond`; a request
// takes one. The same arithmetic runs in Redis (redis-limiter.ts) for shared buckets.
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

/** Buckets kept in memory; beyond that the least recently used tenth is dropped (= refilled). */
const MAX_BUCKETS = 100_000;

/** Per-process buckets: each app instance limits on its own (N instances allow N times the rate). */
export function createMemoryRateLimiter(settings: BucketSettings, now: () => number = Date.now): RateLimiter {
  const buckets = new Map<string, Bucket>();
  return {
    async take(key: string): Promise<RateDecision> {
      const result = takeToken(buckets.get(key), now(), settings);
      buckets.delete(key); // re-insert, so Map order is least recently used first
      buckets.set(key, result.bucket);
      if (buckets.size > MAX_BUCKETS) {
        for (const k of buckets.keys()) {
          if (buckets.size <= MAX_BUCKETS * 0.9) break;
          buckets.delete(k);
        }
      }
      return result.decision;
    },
  };
}
