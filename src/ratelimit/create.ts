import type { RateLimitConfig } from '../config/sharing-schema.js';
import type { Redis } from '../state/redis.js';
import { createRedisRateLimiter } from './redis-limiter.js';
import { createMemoryRateLimiter } from './token-bucket.js';
import type { RateLimiter } from './types.js';

/** Redis-backed (one bucket per subject across all instances) when Redis is configured. */
export function createRateLimiter(config: RateLimitConfig, redis: Redis | null): RateLimiter {
  return redis === null ? createMemoryRateLimiter(config) : createRedisRateLimiter(redis, config);
}
