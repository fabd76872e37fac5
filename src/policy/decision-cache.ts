// The decision cache contract, and the in-memory implementation (the default).
//
// Entries live in groups (one authority + store + action + subject) and are found by scope:
// a lookup passes every prefix of the key, most specific first, so one answer for a media
// package covers all its files. Implementations never throw: a cache that cannot answer is a
// miss, and the authority is asked again.
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

interface Entry {
  readonly answer: CachedAnswer;
  readonly expiresAt: number;
}

/**
 * A bounded LRU over a Map (insertion order = recency). Hand-written because no LRU package is
 * installed and this needs only get/set/evict-oldest with a per-entry expiry; `lru-cache` would
 * be the drop-in replacement.
 */
export class MemoryDecisionCache implements DecisionCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  async lookup(group: string, scopes: readonly string[]): Promise<CachedAnswer | null> {
    const now = this.now();
    for (const scope of scopes) {
      const id = entryId(group, scope);
      const entry = this.entries.get(id);
      if (entry === undefined) continue;
      this.entries.delete(id);
      if (entry.expiresAt <= now) continue;
      this.entries.set(id, entry); // most recently used goes last
      return entry.answer;
    }
    return null;
  }

  async store(group: string, scope: string, answer: CachedAnswer): Promise<void> {
    if (this.maxEntries === 0 || answer.ttlSeconds <= 0) return;
    const id = entryId(group, scope);
    this.entries.delete(id);
    this.entries.set(id, { answer, expiresAt: this.now() + answer.ttlSeconds * 1000 });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
    }
  }
}

function entryId(group: string, scope: string): string {
  return `${group}\u0000${scope}`;
}
