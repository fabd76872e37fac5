// One Redis connection for all shared state (revocations, one-time links, decision cache,
// rate limits). Optional: without SLUICE_REDIS_URL each feature uses its in-process fallback
// or, where that would be unsafe (one-time links), refuses.
import { once } from 'node:events';
import { Redis } from 'ioredis';

export type { Redis };

export function createRedis(url: string): Redis {
  return new Redis(url, {
    // Fail fast instead of queueing commands while Redis is down: callers decide fail-open/closed.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 1000,
    lazyConnect: false,
  });
}

/**
 * True once the connection is ready, false when it is not within `timeoutMs`. Commands are not
 * queued while Redis connects (fail fast), so start-up waits here once before serving.
 */
export async function redisReady(redis: Redis, timeoutMs = 2000): Promise<boolean> {
  if (redis.status === 'ready') return true;
  try {
    await once(redis, 'ready', { signal: AbortSignal.timeout(timeoutMs) });
    return true;
  } catch {
    return false;
  }
}
