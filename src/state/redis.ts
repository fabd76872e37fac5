// The Redis connection behind all shared state (src/state/redis-kv.ts): one Redis, a primary
// found and followed through Sentinel, or a Redis Cluster. Fail fast everywhere: commands are not
// queued while Redis is unreachable and time out after `commandTimeoutMs`, so every feature
// answers at once (503, or a cache miss) instead of piling requests up.
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { abortable } from '../abortable.js';
import type { RedisSettings, RedisTopologySettings } from './settings.js';

/** The one client type every feature sees, whatever the topology. */
export type SharedRedis = Redis | Cluster;

export interface RedisConnection {
  readonly client: SharedRedis;
  readonly kind: RedisTopologySettings['kind'];
  /** Replicas that must confirm a durable write now (`redis.waitForReplicas`, `auto` resolved). */
  replicasToConfirm(): number;
  /** WAIT's timeout for those confirmations. */
  readonly waitTimeoutMs: number;
}

const CONNECT_TIMEOUT_MS = 2000;

export function createRedis(settings: RedisSettings): RedisConnection {
  const { topology } = settings;
  const failFast = { maxRetriesPerRequest: 1, connectTimeout: CONNECT_TIMEOUT_MS, commandTimeout: settings.commandTimeoutMs } satisfies RedisOptions;
  let client: SharedRedis;
  switch (topology.kind) {
    case 'standalone':
      client = new Redis(topology.url, { ...failFast, enableOfflineQueue: false });
      break;
    case 'sentinel':
      client = new Redis({
        ...failFast,
        enableOfflineQueue: false,
        sentinels: topology.sentinels.map(({ host, port }) => ({ host, port })),
        name: topology.name,
        db: topology.db,
        ...(topology.password !== undefined && { password: topology.password }),
        ...(topology.sentinelPassword !== undefined && { sentinelPassword: topology.sentinelPassword }),
        // Reconnect as soon as the sentinels announce a new primary, instead of writing to the
        // demoted one until it drops us; a write it refuses (READONLY) reconnects as well.
        failoverDetector: true,
        reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 1 : false),
      });
      break;
    case 'cluster':
      client = new Cluster(
        topology.nodes.map(({ host, port }) => ({ host, port })),
        {
          enableOfflineQueue: false,
          // Node connections keep ioredis's own offline queue (they connect lazily); the cluster
          // refuses commands for a node that is neither connected nor about to connect.
          redisOptions: { ...failFast, ...(topology.password !== undefined && { password: topology.password }) },
          slotsRefreshTimeout: CONNECT_TIMEOUT_MS,
          clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
        },
      );
      break;
  }
  const auto = (): number => {
    if (topology.kind === 'sentinel') return 1;
    // A cluster fails over to a replica only when it has one: no replica, nothing to wait for.
    if (client instanceof Cluster) return client.nodes('slave').length > 0 ? 1 : 0;
    return 0;
  };
  return {
    client,
    kind: topology.kind,
    replicasToConfirm: settings.waitForReplicas === 'auto' ? auto : () => settings.waitForReplicas as number,
    waitTimeoutMs: settings.waitTimeoutMs,
  };
}

/**
 * True once the client is ready, false when it is not within `timeoutMs`. Commands are not
 * queued while Redis connects (fail fast), so start-up waits here once before serving.
 */
export async function whenReady(client: SharedRedis, timeoutMs = CONNECT_TIMEOUT_MS): Promise<boolean> {
  if (client.status === 'ready') return true;
  let onReady = (): void => undefined;
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
    client.once('ready', onReady);
  });
  try {
    await abortable(ready, AbortSignal.timeout(timeoutMs));
    return true;
  } catch {
    return false;
  } finally {
    client.removeListener('ready', onReady);
  }
}
