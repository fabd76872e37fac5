// One Redis connection for all shared state (revocations, one-time links, decision cache,
// rate limits). Optional: without SLUICE_REDIS_URL each feature uses its in-process fallback
// or, where that would be unsafe (one-time links), refuses.
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
