// Builds the state every feature keeps between requests, once per process, from the settings:
// Redis (redisUrl or redis) or memory. Features ask for their own key space and never see which.
import type { SluiceConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { KeyValueState } from './kv.js';
import { MemoryKeyValueState } from './memory-kv.js';
import { createRedis, whenReady, type SharedRedis } from './redis.js';
import { RedisKeyValueState } from './redis-kv.js';
import { redisSettings, type RedisSettings } from './settings.js';

export interface MemoryBound {
  /** In memory: entries kept at most (least recently used out first); null = expiry only. */
  readonly maxEntries: number | null;
}

export interface SharedState {
  /** True when every instance sees the same state (Redis). */
  readonly shared: boolean;
  /** One feature's keys, all starting with `prefix` in Redis; in memory a store of its own, bounded by `memory`. */
  space(prefix: string, memory: MemoryBound): KeyValueState;
  /** The Redis client, for readiness checks; null in memory. */
  readonly redis: SharedRedis | null;
  close(): void;
}

/** In-process state: correct for one instance only. `now` is the clock of every store (tests). */
export function memoryState(now: () => number = Date.now): SharedState {
  return {
    shared: false,
    space: (_prefix, memory) => new MemoryKeyValueState({ maxEntries: memory.maxEntries, now }),
    redis: null,
    close: () => undefined,
  };
}

/** The configured state; with Redis, waits (once, briefly) until it is ready. */
export function openSharedState(config: Pick<SluiceConfig, 'redisUrl' | 'redis'>, logger: Logger): Promise<SharedState> {
  const settings = redisSettings(config);
  return settings === null ? Promise.resolve(memoryState()) : openRedisState(settings, logger);
}

export async function openRedisState(settings: RedisSettings, logger: Logger): Promise<SharedState> {
  const connection = createRedis(settings);
  const { client } = connection;
  const warn = (error: Error): void => logger.warn({ err: { message: error.message } }, 'redis error');
  client.on('error', warn);
  client.on('node error', warn); // Cluster: a node's connection failed
  // Once, before anything uses it: avoids a burst of 503s and uncached decisions right after start.
  if (!(await whenReady(client))) {
    logger.warn({ topology: connection.kind }, 'redis not ready at start-up: what needs shared state answers 503 (decisions are not cached) until it is');
  }
  return {
    shared: true,
    space: (prefix) => new RedisKeyValueState(connection, prefix),
    redis: client,
    close: () => client.disconnect(),
  };
}
