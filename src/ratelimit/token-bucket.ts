// The token bucket's arithmetic lives with the state that stores buckets (src/state/token-bucket.ts);
// the in-memory limiter is built in create.ts. Both named here for their existing importers.
export { takeToken, type Bucket, type TakeResult } from '../state/token-bucket.js';
export { createMemoryRateLimiter } from './create.js';
