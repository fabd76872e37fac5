// The decision cache contract, and the in-memory implementation (the default).
//
// Entries live in groups (one authority + store + action + subject) and are found by scope:
// a lookup passes every prefix of the key, most specific first, so one answer for a media
// package covers all its files. Implementations never throw: a cache that cannot answer is a
// miss, and the authority is asked again.
import { LRUCache } from 'lru-cache';
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
 * Bounded by `maxEntries` (least recently used out first, by lru-cache). Expiry is checked here
 * against the injected clock, so an answer is gone at exactly its TTL.
 */
export class MemoryDecisionCache implements DecisionCache {
  /** null when caching is off (maxEntries 0). */
  private readonly entries: LRUCache<string, Entry> | null;

  constructor(
    maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {
    this.entries = maxEntries === 0 ? null : new LRUCache({ max: maxEntries });
  }

  get size(): number {
    return this.entries?.size ?? 0;
  }

  async lookup(group: string, scopes: readonly string[]): Promise<CachedAnswer | null> {
    if (this.entries === null) return null;
    const now = this.now();
    for (const scope of scopes) {
      const id = entryId(group, scope);
      const entry = this.entries.get(id); // marks it most recently used
      if (entry === undefined) continue;
      if (entry.expiresAt > now) return entry.answer;
      this.entries.delete(id);
    }
    return null;
  }

  async store(group: string, scope: string, answer: CachedAnswer): Promise<void> {
    if (this.entries === null || answer.ttlSeconds <= 0) return;
    this.entries.set(entryId(group, scope), { answer, expiresAt: this.now() + answer.ttlSeconds * 1000 });
  }
}

function entryId(group: string, scope: string): string {
  return `${group}\u0000${scope}`;
}
