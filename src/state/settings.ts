// The one answer to "is shared state configured, and where?": `redisUrl` (the shorthand) or
// `redis` (url, Sentinel or Cluster), normalised to one of three topologies.
import type { RedisConfig } from '../config/redis-schema.js';
import type { SluiceConfig } from '../config/schema.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export type RedisTopologySettings =
  | { readonly kind: 'standalone'; readonly url: string }
  | {
      readonly kind: 'sentinel';
      readonly sentinels: readonly HostPort[];
      readonly name: string;
      readonly password?: string | undefined;
      readonly sentinelPassword?: string | undefined;
      readonly db: number;
    }
  | { readonly kind: 'cluster'; readonly nodes: readonly HostPort[]; readonly password?: string | undefined };

export interface RedisSettings {
  readonly topology: RedisTopologySettings;
  readonly commandTimeoutMs: number;
  /** Replicas that must confirm durable writes (`auto` resolved per topology by src/state/redis.ts). */
  readonly waitForReplicas: number | 'auto';
  readonly waitTimeoutMs: number;
}

/** Defaults of the `redis` settings, for `redisUrl` and callers that only have a URL. */
const DEFAULTS = { commandTimeoutMs: 1000, waitForReplicas: 'auto', waitTimeoutMs: 250 } as const;

/** Where shared state lives, or null: every feature keeps its state in this process. */
export function redisSettings(config: Pick<SluiceConfig, 'redisUrl' | 'redis'>): RedisSettings | null {
  if (config.redis !== undefined) return fromRedisConfig(config.redis);
  if (config.redisUrl !== undefined) return redisUrlSettings(config.redisUrl);
  return null;
}

/** True when every instance shares state (Redis is configured in either form). */
export function hasSharedState(config: Pick<SluiceConfig, 'redisUrl' | 'redis'>): boolean {
  return redisSettings(config) !== null;
}

export function redisUrlSettings(url: string): RedisSettings {
  return { topology: { kind: 'standalone', url }, ...DEFAULTS };
}

function fromRedisConfig(redis: RedisConfig): RedisSettings {
  const common = { commandTimeoutMs: redis.commandTimeoutMs, waitForReplicas: redis.waitForReplicas, waitTimeoutMs: redis.waitTimeoutMs };
  if (redis.sentinels !== undefined) {
    const topology = {
      kind: 'sentinel' as const,
      sentinels: redis.sentinels.map(hostPort),
      name: redis.name as string, // required with sentinels (redis-schema.ts)
      password: redis.password,
      sentinelPassword: redis.sentinelPassword,
      db: redis.db ?? 0,
    };
    return { topology, ...common };
  }
  if (redis.nodes !== undefined) return { topology: { kind: 'cluster', nodes: redis.nodes.map(hostPort), password: redis.password }, ...common };
  return { topology: { kind: 'standalone', url: redis.url as string }, ...common };
}

/** "host:port" or "[v6]:port" (validated by the schema). */
function hostPort(address: string): HostPort {
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(address.slice(colon + 1)) };
}
