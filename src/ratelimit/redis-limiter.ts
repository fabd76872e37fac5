// Token buckets in Redis, shared by every app instance. One Lua script per request keeps the
// read-refill-take atomic; the clock is Redis's own (TIME), so instances with skewed clocks agree.
import type { Redis } from '../state/redis.js';
import type { BucketSettings, RateDecision, RateLimiter } from './types.js';

const PREFIX = 'sluice:ratelimit:';

// Returns {allowed, retry-after milliseconds}. Buckets expire once they would be full again.
const TAKE_SCRIPT = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then tokens = burst; at = now end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {allowed, wait}`;

export function createRedisRateLimiter(redis: Redis, settings: BucketSettings): RateLimiter {
  return {
    async take(key: string): Promise<RateDecision> {
      const [allowed, waitMs] = (await redis.eval(TAKE_SCRIPT, 1, PREFIX + key, settings.requestsPerSecond, settings.burst)) as [number, number];
      return allowed === 1 ? { allowed: true, retryAfterSeconds: 0 } : { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
    },
  };
}
