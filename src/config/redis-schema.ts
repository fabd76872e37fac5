// Where shared state lives: one Redis, a Sentinel-watched primary, or a Redis Cluster. `redisUrl`
// (schema.ts) stays as the shorthand for `redis: { url }`; src/state/settings.ts reads both.
import { z } from 'zod';
import { commaList } from './comma-list.js';

const hostPort = z.string().regex(/^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'a host:port address such as 10.0.0.5:26379');

/** One address, comma-separated addresses (the environment's form) or a list. */
const hostList = commaList(hostPort, 'host:port addresses, comma-separated or a list').refine((list) => list.length > 0, 'list at least one host:port address');

const SHAPES = 'exactly one of `url`, `sentinels` (with `name`) or `nodes`';

export const redisSchema = z
  .strictObject({
    url: z
      .url({ protocol: /^rediss?$/ })
      .optional()
      .describe(`one Redis: \`redis://[:password@]host:port/db\` (${SHAPES})`),
    sentinels: hostList.optional().meta({
      docType: 'host:port, comma-separated, or a list',
      description: 'Sentinel addresses; Sluice asks them for the primary of `name` and follows it through failovers',
    }),
    name: z.string().min(1).optional().describe("with `sentinels`: the monitored primary's name (`sentinel monitor <name> …`)"),
    sentinelPassword: z.string().min(1).optional().describe("with `sentinels`: the sentinels' own password (`requirepass` of the sentinels)"),
    db: z.number().int().min(0).max(255).optional().describe('with `sentinels`: the database number (default 0)'),
    nodes: hostList.optional().meta({
      docType: 'host:port, comma-separated, or a list',
      description: 'Redis Cluster: some primaries to discover the cluster from',
    }),
    password: z.string().min(1).optional().describe('with `sentinels` or `nodes`: the Redis password (with `url`, write it in the URL)'),
    commandTimeoutMs: z
      .number()
      .int()
      .min(50)
      .max(60_000)
      .default(1000)
      .describe('a Redis command not answered within this fails (the feature then answers 503, or a cache miss)'),
    waitForReplicas: z
      .union([z.literal('auto'), z.number().int().min(0).max(16)])
      .default('auto')
      .describe(
        'replicas that must confirm a counted-link use or a revocation (Redis `WAIT`) before it is granted, so a failover cannot lose it; not confirmed → 503. `auto`: 1 with `sentinels`, 1 with `nodes` when the cluster has replicas, 0 with `url` (operations.md, *Shared state*)',
      ),
    waitTimeoutMs: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(250)
      .describe('how long a write waits for `waitForReplicas` confirmations; below `commandTimeoutMs`'),
  })
  .superRefine((redis, ctx) => {
    const shapes = [redis.url, redis.sentinels, redis.nodes].filter((shape) => shape !== undefined).length;
    if (shapes !== 1) ctx.addIssue({ code: 'custom', message: `set ${SHAPES}` });
    const only = (field: 'name' | 'sentinelPassword' | 'db', shape: string, present: boolean): void => {
      if (redis[field] !== undefined && !present) ctx.addIssue({ code: 'custom', path: [field], message: `only with ${shape}` });
    };
    only('name', '`sentinels`', redis.sentinels !== undefined);
    only('sentinelPassword', '`sentinels`', redis.sentinels !== undefined);
    only('db', '`sentinels` (a cluster has only db 0; with `url` write it in the URL)', redis.sentinels !== undefined);
    if (redis.sentinels !== undefined && redis.name === undefined)
      ctx.addIssue({ code: 'custom', path: ['name'], message: "the primary's name is required with `sentinels`" });
    if (redis.url !== undefined && redis.password !== undefined)
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'with `url`, write the password in the URL' });
    if (redis.waitTimeoutMs >= redis.commandTimeoutMs) ctx.addIssue({ code: 'custom', path: ['waitTimeoutMs'], message: 'must be below commandTimeoutMs' });
  });

export type RedisConfig = z.infer<typeof redisSchema>;
