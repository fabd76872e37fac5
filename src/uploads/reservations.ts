// Write-once reservations and multipart records. Redis (shared by every instance) fails CLOSED:
// an unreachable Redis is a 503, never a silent "go ahead". Without Redis the in-memory store
// is correct for ONE app instance only.
import { LRUCache } from 'lru-cache';
import { PublicError } from '../errors.js';
import type { Redis } from '../state/redis.js';

export interface ReservationStore {
  /** True when `name` was free and is now held (SET NX); `ttlSeconds` null = forever. */
  reserve(name: string, value: string, ttlSeconds: number | null): Promise<boolean>;
  get(name: string): Promise<string | null>;
  /** Overwrites (keeps holding) `name`; null TTL = forever. */
  set(name: string, value: string, ttlSeconds: number | null): Promise<void>;
  release(name: string): Promise<void>;
}

const PREFIX = 'sluice:upload:';

export function uploadsUnavailable(cause?: unknown): PublicError {
  return new PublicError(503, 'upload state unavailable', { 'Retry-After': '5' }, cause);
}

export function createRedisReservations(redis: Redis): ReservationStore {
  const guarded = async <T>(operation: () => Promise<T>): Promise<T> => {
    try {
      return await operation();
    } catch (error) {
      throw uploadsUnavailable(error);
    }
  };
  return {
    async reserve(name, value, ttlSeconds) {
      const result = await guarded(() =>
        ttlSeconds === null ? redis.set(PREFIX + name, value, 'NX') : redis.set(PREFIX + name, value, 'EX', ttlSeconds, 'NX'),
      );
      return result === 'OK';
    },
    get: (name) => guarded(() => redis.get(PREFIX + name)),
    async set(name, value, ttlSeconds) {
      await guarded(() => (ttlSeconds === null ? redis.set(PREFIX + name, value) : redis.set(PREFIX + name, value, 'EX', ttlSeconds)));
    },
    async release(name) {
      await guarded(() => redis.del(PREFIX + name));
    },
  };
}

interface Entry {
  readonly value: string;
  readonly expiresAt: number;
}

/**
 * The in-memory store keeps at most this many names, least recently used out first. Forgetting
 * an old permanent ("written") mark is safe: planning an upload also asks S3 whether the key exists.
 */
const MEMORY_MAX_ENTRIES = 100_000;

export function createMemoryReservations(now: () => number = Date.now, maxEntries = MEMORY_MAX_ENTRIES): ReservationStore {
  // lru-cache bounds the map and sweeps expired entries (ttlAutopurge); the expiry checked in
  // live() is the one that counts, so a name is free at exactly its TTL, as in Redis.
  const entries = new LRUCache<string, Entry>({ max: maxEntries, ttlAutopurge: true, perf: { now }, ttlResolution: 0 });
  const live = (name: string): Entry | undefined => {
    const entry = entries.get(name);
    if (entry !== undefined && entry.expiresAt <= now()) {
      entries.delete(name);
      return undefined;
    }
    return entry;
  };
  const put = (name: string, value: string, ttlSeconds: number | null): void => {
    const ttlMs = ttlSeconds === null ? 0 : Math.ceil(ttlSeconds * 1000); // 0: no expiry
    entries.set(name, { value, expiresAt: ttlSeconds === null ? Infinity : now() + ttlSeconds * 1000 }, { ttl: ttlMs });
  };
  return {
    async reserve(name, value, ttlSeconds) {
      if (live(name) !== undefined) return false;
      put(name, value, ttlSeconds);
      return true;
    },
    get: async (name) => live(name)?.value ?? null,
    set: async (name, value, ttlSeconds) => put(name, value, ttlSeconds),
    release: async (name) => {
      entries.delete(name);
    },
  };
}
