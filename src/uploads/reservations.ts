// Write-once reservations and multipart records, over the key-value state (src/state): Redis
// (shared by every instance) fails CLOSED — an unreachable Redis is a 503, never a silent "go
// ahead"; memory is correct for ONE app instance only. Redis keys: sluice:upload:<name>.
import { PublicError } from '../errors.js';
import type { Expiry, KeyValueState } from '../state/kv.js';
import { MemoryKeyValueState } from '../state/memory-kv.js';
import type { SharedState } from '../state/shared-state.js';

export interface ReservationStore {
  /** True when `name` was free and is now held (SET NX); `ttlSeconds` null = forever. */
  reserve(name: string, value: string, ttlSeconds: number | null): Promise<boolean>;
  get(name: string): Promise<string | null>;
  /** Overwrites (keeps holding) `name`; null TTL = forever. */
  set(name: string, value: string, ttlSeconds: number | null): Promise<void>;
  release(name: string): Promise<void>;
}

const PREFIX = 'sluice:upload:';

/**
 * The in-memory store keeps at most this many names, least recently used out first. Forgetting
 * an old permanent ("written") mark is safe: planning an upload also asks S3 whether the key exists.
 */
const MEMORY_MAX_ENTRIES = 100_000;

export function uploadsUnavailable(cause?: unknown): PublicError {
  return new PublicError(503, 'upload state unavailable', { 'Retry-After': '5' }, cause);
}

export function createReservations(state: SharedState): ReservationStore {
  return reservationsOver(state.space(PREFIX, { maxEntries: MEMORY_MAX_ENTRIES }));
}

export function createMemoryReservations(now: () => number = Date.now, maxEntries = MEMORY_MAX_ENTRIES): ReservationStore {
  return reservationsOver(new MemoryKeyValueState({ maxEntries, now }));
}

function reservationsOver(names: KeyValueState): ReservationStore {
  const guarded = async <T>(operation: () => Promise<T>): Promise<T> => {
    try {
      return await operation();
    } catch (error) {
      throw uploadsUnavailable(error);
    }
  };
  const expiry = (ttlSeconds: number | null): Expiry => (ttlSeconds === null ? null : { ttlSeconds });
  return {
    reserve: (name, value, ttlSeconds) => guarded(() => names.setIfAbsent(name, value, expiry(ttlSeconds))),
    get: (name) => guarded(() => names.get(name)),
    set: (name, value, ttlSeconds) => guarded(() => names.set(name, value, expiry(ttlSeconds))),
    release: (name) => guarded(() => names.delete(name)),
  };
}
