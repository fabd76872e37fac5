// The decision cache: its contract, and the one implementation over the key-value state
// (src/state): memory (the default, bounded LRU) or Redis (shared by every instance).
//
// Entries live in groups (one authority + store + action + subject) and are found by scope:
// a lookup passes every prefix of the key, most specific first, so one answer for a media
// package covers all its files. Implementations never throw: a cache that cannot answer is a
// miss, and the authority is asked again (and still fails closed if it cannot answer); failures
// are logged at most every 10 s, an outage must not flood the log.
import { createHash } from 'node:crypto';
import type { Logger } from '../observability/logger.js';
import type { KeyValueState } from '../state/kv.js';
import { MemoryKeyValueState } from '../state/memory-kv.js';
import type { AnswerEffect } from './authority.js';

export interface CachedAnswer {
  readonly effect: AnswerEffect;
  readonly reason?: string;
  /** The TTL the answer was stored with (reported in the audit line). */
  readonly ttlSeconds: number;
}

export interface DecisionCache {
  /** The entry of the first scope that has one, or null. */
  lookup(group: string, scopes: readonly string[]): Promise<CachedAnswer | null>;
  store(group: string, scope: string, answer: CachedAnswer): Promise<void>;
}

const EFFECTS = new Set(['allow', 'deny', 'abstain']);
const WARN_INTERVAL_MS = 10_000;

/**
 * Keys are hashed (fixed length; subjects and file names never appear in Redis) and carry the
 * group's hash as a hash tag, `{group}:scope`, so every candidate of one lookup (one MGET) lives
 * in one Redis Cluster slot. Entries expire by their TTL in the state itself.
 */
export class StateDecisionCache implements DecisionCache {
  private lastWarning = -Infinity;
  private suppressed = 0;

  constructor(
    private readonly entries: KeyValueState,
    private readonly logger?: Logger,
  ) {}

  async lookup(group: string, scopes: readonly string[]): Promise<CachedAnswer | null> {
    if (scopes.length === 0) return null;
    const tag = hash(group);
    let values: (string | null)[];
    try {
      values = await this.entries.getMany(scopes.map((scope) => keyOf(tag, scope)));
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
      await this.entries.set(keyOf(hash(group), scope), JSON.stringify(answer), { ttlSeconds: answer.ttlSeconds });
    } catch (error) {
      this.warn('store', error);
    }
  }

  private warn(operation: string, error: unknown): void {
    const now = Date.now();
    if (now - this.lastWarning < WARN_INTERVAL_MS) {
      this.suppressed += 1;
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    this.logger?.warn({ err: { message }, operation, suppressed: this.suppressed }, 'decision cache unavailable (Redis): asking the authority');
    this.lastWarning = now;
    this.suppressed = 0;
  }
}

/** This process's cache: at most `maxEntries` answers (0 = off), least recently used out first. */
export class MemoryDecisionCache extends StateDecisionCache {
  private readonly memory: MemoryKeyValueState;

  constructor(maxEntries: number, now: () => number = Date.now) {
    const memory = new MemoryKeyValueState({ maxEntries, now });
    super(memory);
    this.memory = memory;
  }

  get size(): number {
    return this.memory.size;
  }
}

function keyOf(tag: string, scope: string): string {
  return `{${tag}}:${hash(scope)}`;
}

function hash(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/** Anything unexpected in the state is ignored (a miss), never trusted. */
function parse(value: string): CachedAnswer | null {
  try {
    const parsed = JSON.parse(value) as Partial<CachedAnswer>;
    if (typeof parsed.effect !== 'string' || !EFFECTS.has(parsed.effect) || typeof parsed.ttlSeconds !== 'number') return null;
    return { effect: parsed.effect, ttlSeconds: parsed.ttlSeconds, ...(typeof parsed.reason === 'string' ? { reason: parsed.reason } : {}) };
  } catch {
    return null;
  }
}
