// The decision cache shared by every Sluice instance through Redis. One MGET per lookup (all
// candidate scopes at once), SET … EX per answer, so Redis expires entries itself. Keys are
// hashed (fixed length; subjects and file names do not appear in Redis) and carry the group
// hash as a hash tag, so all candidates of one lookup share a Redis Cluster slot.
// Redis errors are a miss: the authority is asked again (and still fails closed if it cannot
// answer); they are logged (at most every 10 s, an outage must not flood the log), never thrown.
import { createHash } from 'node:crypto';
import type { Logger } from '../observability/logger.js';
import type { Redis } from '../state/redis.js';
import type { CachedAnswer, DecisionCache } from './decision-cache.js';

const EFFECTS = new Set(['allow', 'deny', 'abstain']);
const WARN_INTERVAL_MS = 10_000;

export class RedisDecisionCache implements DecisionCache {
  private lastWarning = -Infinity;
  private suppressed = 0;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {}

  async lookup(group: string, scopes: readonly string[]): Promise<CachedAnswer | null> {
    if (scopes.length === 0) return null;
    const tag = hash(group);
    let values: (string | null)[];
    try {
      values = await this.redis.mget(scopes.map((scope) => this.keyOf(tag, scope)));
    } catch (error) {
      this.warn('lookup', error);
      return null;
    }
    for (const value of values) {
      const answer = value === null ? null : parse(value);
      if (answer !== null) return answer;
    }
    return null;
  }

  async store(group: string, scope: string, answer: CachedAnswer): Promise<void> {
    if (answer.ttlSeconds <= 0) return;
    try {
      await this.redis.set(this.keyOf(hash(group), scope), JSON.stringify(answer), 'EX', answer.ttlSeconds);
    } catch (error) {
      this.warn('store', error);
    }
  }

  private keyOf(tag: string, scope: string): string {
    return `${this.prefix}{${tag}}:${hash(scope)}`;
  }

  private warn(operation: string, error: unknown): void {
    const now = Date.now();
    if (now - this.lastWarning < WARN_INTERVAL_MS) {
      this.suppressed += 1;
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    this.logger.warn({ err: { message }, operation, suppressed: this.suppressed }, 'decision cache unavailable (Redis): asking the authority');
    this.lastWarning = now;
    this.suppressed = 0;
  }
}

function hash(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/** Anything unexpected in Redis is ignored (a miss), never trusted. */
function parse(value: string): CachedAnswer | null {
  try {
    const parsed = JSON.parse(value) as Partial<CachedAnswer>;
    if (typeof parsed.effect !== 'string' || !EFFECTS.has(parsed.effect) || typeof parsed.ttlSeconds !== 'number') return null;
    return { effect: parsed.effect, ttlSeconds: parsed.ttlSeconds, ...(typeof parsed.reason === 'string' ? { reason: parsed.reason } : {}) };
  } catch {
    return null;
  }
}
