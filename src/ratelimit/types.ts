import type { RateDecision } from '../state/token-bucket.js';

export type { BucketSettings, RateDecision } from '../state/token-bucket.js';

export interface RateLimiter {
  /** Takes one token from the bucket named `key`. Rejects when the backing store fails. */
  take(key: string): Promise<RateDecision>;
}
