/** The answer for one request: allowed, or how long until a token is available again. */
export interface RateDecision {
  readonly allowed: boolean;
  /** Whole seconds (≥ 1) the client should wait when refused; 0 when allowed. */
  readonly retryAfterSeconds: number;
}

export interface RateLimiter {
  /** Takes one token from the bucket named `key`. Rejects when the backing store fails. */
  take(key: string): Promise<RateDecision>;
}

export interface BucketSettings {
  /** Tokens added per second. */
  readonly requestsPerSecond: number;
  /** Bucket capacity: how many requests may come at once. */
  readonly burst: number;
}
