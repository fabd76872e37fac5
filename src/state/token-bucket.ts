// Token-bucket arithmetic, in its two forms side by side so they stay the same: a pure function
// (memory adapter) and a Lua script (Redis adapter, atomic, on Redis's own clock). Each key holds
// up to `burst` tokens, refilled at `requestsPerSecond`; a request takes one.

export interface BucketSettings {
  /** Tokens added per second. */
  readonly requestsPerSecond: number;
  /** Bucket capacity: how many requests may come at once. */
  readonly burst: number;
}

/** The answer for one request: allowed, or how long until a token is available again. */
export interface RateDecision {
  readonly allowed: boolean;
  /** Whole seconds (≥ 1) the client should wait when refused; 0 when allowed. */
  readonly retryAfterSeconds: number;
}

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
  return { decision: { allowed: false, retryAfterSeconds: retryAfterSeconds(waitMs) }, bucket: { tokens, at: nowMs } };
}

/** A bucket left alone this long is full again: it may be forgotten. */
export function bucketLifetimeMs(settings: BucketSettings): number {
  return Math.ceil((settings.burst * 1000) / settings.requestsPerSecond) + 1000;
}

export function retryAfterSeconds(waitMs: number): number {
  return Math.max(1, Math.ceil(waitMs / 1000));
}

/** KEYS[1] the bucket; ARGV rate, burst. Returns {allowed, wait ms}; expires once full again (bucketLifetimeMs). */
export const TAKE_TOKEN_SCRIPT = `
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
