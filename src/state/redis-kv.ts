// Key-value state in Redis (one server, Sentinel or Cluster), seen by every instance. Every entry
// carries its own expiry (SET … PX/PXAT), so Redis never accumulates dead state. Errors reject:
// each feature decides what an unreachable Redis means for it (503, or a cache miss).
//
// Cluster: every command here names one key, except getMany (MGET: callers tag keys read
// together) and the WAIT after a durable write, which rides in a pipeline with the write so it
// reaches the node that took it. Scripts take exactly one key (KEYS[1]).
import type { ChainableCommander } from 'ioredis';
import type { Expiry, KeyValueState, WriteOptions } from './kv.js';
import type { RedisConnection, SharedRedis } from './redis.js';
import { retryAfterSeconds, TAKE_TOKEN_SCRIPT, type BucketSettings, type RateDecision } from './token-bucket.js';

/** A durable write that the required replicas did not confirm in time (see WriteOptions.durable). */
export class UnconfirmedWriteError extends Error {
  constructor(wanted: number, confirmed: number) {
    super(`write confirmed by ${confirmed} of ${wanted} replicas`);
    this.name = 'UnconfirmedWriteError';
  }
}

/** KEYS[1] counter; ARGV limit, expiry kind (none|at|px), expiry value (ms). 1 = counted. */
const INCREMENT_BELOW_SCRIPT = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= tonumber(ARGV[1]) then return 0 end
redis.call('INCR', KEYS[1])
if n == 0 then
  if ARGV[2] == 'at' then redis.call('PEXPIREAT', KEYS[1], ARGV[3])
  elseif ARGV[2] == 'px' then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
end
return 1`;

/** KEYS[1] counter: gives back one count (an unconfirmed durable increment), never below 0. */
const GIVE_BACK_SCRIPT = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then redis.call('DECR', KEYS[1]) end
return n`;

const SCRIPTS = {
  sluiceIncrementBelow: INCREMENT_BELOW_SCRIPT,
  sluiceGiveBack: GIVE_BACK_SCRIPT,
  sluiceTakeToken: TAKE_TOKEN_SCRIPT,
} as const;
type ScriptName = keyof typeof SCRIPTS;
type ScriptRunner = Record<ScriptName, (key: string, ...args: (string | number)[]) => unknown>;

const defined = new WeakSet<SharedRedis>();

/** EVALSHA with a fallback to EVAL (ioredis's defineCommand), once per client. */
function defineScripts(client: SharedRedis): void {
  if (defined.has(client)) return;
  for (const [name, lua] of Object.entries(SCRIPTS)) client.defineCommand(name, { numberOfKeys: 1, lua });
  defined.add(client);
}

export class RedisKeyValueState implements KeyValueState {
  readonly shared = true;
  private readonly client: SharedRedis;

  /** `prefix` is put before every key (`sluice:share:` …): one feature's keys, one namespace. */
  constructor(
    private readonly connection: RedisConnection,
    private readonly prefix: string,
  ) {
    this.client = connection.client;
    defineScripts(this.client);
  }

  get(key: string): Promise<string | null> {
    return this.client.get(this.prefix + key);
  }

  async getMany(keys: readonly string[]): Promise<(string | null)[]> {
    if (keys.length === 0) return [];
    return this.client.mget(keys.map((key) => this.prefix + key));
  }

  async set(key: string, value: string, expiry: Expiry, options: WriteOptions = {}): Promise<void> {
    const args = expiryArgs(expiry);
    if (args === 'expired') return;
    const write = (commander: SharedRedis | ChainableCommander): unknown => commander.call('SET', this.prefix + key, value, ...args);
    if (options.durable === true) await this.confirmed(write, () => true);
    else await write(this.client);
  }

  async setIfAbsent(key: string, value: string, expiry: Expiry): Promise<boolean> {
    const args = expiryArgs(expiry);
    if (args === 'expired') return false;
    return (await this.client.call('SET', this.prefix + key, value, ...args, 'NX')) === 'OK';
  }

  async delete(key: string): Promise<void> {
    await this.client.del(this.prefix + key);
  }

  async incrementBelow(key: string, limit: number, expiry: Expiry, options: WriteOptions = {}): Promise<boolean> {
    const args = expiryArgs(expiry);
    if (args === 'expired') return false;
    const [kind, ms] = args.length === 0 ? ['none', 0] : [args[0] === 'PXAT' ? 'at' : 'px', args[1] as number];
    const run = (commander: SharedRedis | ChainableCommander): unknown => scripts(commander).sluiceIncrementBelow(this.prefix + key, limit, kind, ms);
    if (options.durable !== true) return Number(await run(this.client)) === 1;
    try {
      // A refused use (limit reached) wrote nothing: there is nothing to confirm.
      return Number(await this.confirmed(run, (reply) => Number(reply) === 1)) === 1;
    } catch (error) {
      // Counted but not confirmed: give the use back (best effort) so a retry can still take it.
      // Should the give-back be lost as well, the use stays spent: never granted twice.
      if (error instanceof UnconfirmedWriteError) await scripts(this.client).sluiceGiveBack(this.prefix + key);
      throw error;
    }
  }

  async counter(key: string): Promise<number> {
    return Number((await this.client.get(this.prefix + key)) ?? 0);
  }

  async takeToken(key: string, settings: BucketSettings): Promise<RateDecision> {
    const [allowed, waitMs] = (await scripts(this.client).sluiceTakeToken(this.prefix + key, settings.requestsPerSecond, settings.burst)) as [number, number];
    return allowed === 1 ? { allowed: true, retryAfterSeconds: 0 } : { allowed: false, retryAfterSeconds: retryAfterSeconds(waitMs) };
  }

  /**
   * Runs one write and WAIT in a pipeline (same connection, same cluster node) and resolves with
   * the write's reply once `replicasToConfirm()` replicas have it — or at once when `wrote` says
   * the reply changed nothing.
   */
  private async confirmed(write: (commander: SharedRedis | ChainableCommander) => unknown, wrote: (reply: unknown) => boolean): Promise<unknown> {
    const replicas = this.connection.replicasToConfirm();
    if (replicas === 0) return write(this.client);
    const pipeline = this.client.pipeline();
    write(pipeline);
    pipeline.call('WAIT', replicas, this.connection.waitTimeoutMs);
    const results = (await pipeline.exec()) ?? [];
    const [writeError, reply] = results[0] ?? [new Error('no reply to the write')];
    if (writeError) throw writeError;
    if (!wrote(reply)) return reply;
    const [waitError, confirmations] = results[1] ?? [new Error('no reply to WAIT')];
    const confirmedBy = waitError ? 0 : Number(confirmations);
    if (confirmedBy < replicas) throw new UnconfirmedWriteError(replicas, confirmedBy);
    return reply;
  }
}

function scripts(commander: SharedRedis | ChainableCommander): ScriptRunner {
  return commander as unknown as ScriptRunner;
}

/** SET's expiry arguments; 'expired' when the entry would be gone already. */
function expiryArgs(expiry: Expiry): ['PXAT', number] | ['PX', number] | [] | 'expired' {
  if (expiry === null) return [];
  if ('at' in expiry) {
    const at = Math.ceil(expiry.at * 1000);
    return at <= Date.now() ? 'expired' : ['PXAT', at];
  }
  const ms = Math.ceil(expiry.ttlSeconds * 1000);
  return ms <= 0 ? 'expired' : ['PX', ms];
}
