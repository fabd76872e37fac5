// Puts the decision cache in front of an authority (plugin or webhook).
//
// Cache key: authority + store + action + subject (`sub`), found by scope. An answer may name a
// scope (a key prefix of whole segments) and then covers every key below it. Claims are not part
// of the key: a changed role reaches cached answers only when they expire (the revocation window
// is the TTL, at most policy.cache.maxTtlSeconds). Tokens without `sub` are never cached.
//
// Concurrent misses of one group wait for the call already in flight and look again, so a player
// that requests 30 files of a package at once causes one call when the answer names the package.
import type { Subject } from '../auth/types.js';
import type { Logger } from '../observability/logger.js';
import type { CanonicalKey } from '../storage/types.js';
import type { AuthorityAnswer, Verdict } from './authority.js';
import type { CachedAnswer, DecisionCache } from './decision-cache.js';
import type { KeyParams } from './key-pattern.js';
import type { AccessRequest } from './types.js';

export type AskAuthority = (request: AccessRequest, subject: Subject, params: KeyParams) => Promise<AuthorityAnswer>;
export type AskWithCache = (request: AccessRequest, subject: Subject, params: KeyParams) => Promise<Verdict>;

export interface TtlPolicy {
  readonly defaultSeconds: number;
  readonly maxSeconds: number;
}

export interface CachedAskOptions {
  readonly authority: string;
  readonly cache: DecisionCache;
  readonly ttl: TtlPolicy;
  readonly logger: Logger;
}

export function withDecisionCache(ask: AskAuthority, options: CachedAskOptions): AskWithCache {
  const inflight = new Map<string, Promise<Verdict>>();

  async function askAndStore(group: string, request: AccessRequest, subject: Subject, params: KeyParams): Promise<Verdict> {
    const answer = await ask(request, subject, params);
    const ttlSeconds = ttlOf(answer, options.ttl);
    const cached: CachedAnswer = { effect: answer.effect, ttlSeconds, ...(answer.reason !== undefined ? { reason: answer.reason } : {}) };
    if (ttlSeconds > 0) await options.cache.store(group, scopeOf(answer, request.key, options), cached);
    return { ...cached, cacheHit: false };
  }

  return async (request, subject, params) => {
    const group = groupOf(options.authority, request, subject);
    if (group === null) {
      const answer = await ask(request, subject, params);
      return { effect: answer.effect, cacheHit: false, ttlSeconds: 0, ...(answer.reason !== undefined ? { reason: answer.reason } : {}) };
    }
    const scopes = candidateScopes(request.key);
    const hit = await options.cache.lookup(group, scopes);
    if (hit !== null) return { ...hit, cacheHit: true };
    const pending = inflight.get(group);
    if (pending !== undefined) {
      await pending.then(ignore, ignore);
      const late = await options.cache.lookup(group, scopes);
      if (late !== null) return { ...late, cacheHit: true };
    }
    const call = askAndStore(group, request, subject, params);
    if (!inflight.has(group)) {
      inflight.set(group, call);
      const done = (): void => {
        if (inflight.get(group) === call) inflight.delete(group);
      };
      call.then(done, done);
    }
    return call;
  };
}

function ignore(): void {}

/** null: not cacheable (an authenticated subject without `sub` cannot be told apart from others). */
function groupOf(authority: string, request: AccessRequest, subject: Subject): string | null {
  if (subject.authenticated && subject.id === null) return null;
  const who = subject.authenticated ? `sub:${subject.id as string}` : 'anonymous';
  return JSON.stringify([authority, request.store, request.action, who]);
}

function ttlOf(answer: AuthorityAnswer, ttl: TtlPolicy): number {
  const wanted = answer.ttlSeconds ?? ttl.defaultSeconds;
  return Math.max(0, Math.min(Math.floor(wanted), ttl.maxSeconds));
}

/** Every prefix of the key of whole segments, the key itself first. */
export function candidateScopes(key: CanonicalKey): string[] {
  const scopes: string[] = [key.value];
  let end = key.value.length;
  for (let index = key.segments.length - 1; index > 0; index -= 1) {
    end -= (key.segments[index] as string).length + 1;
    scopes.push(key.value.slice(0, end));
  }
  return scopes;
}

/** The answer's scope when it really is a segment prefix of this key; otherwise the key alone. */
function scopeOf(answer: AuthorityAnswer, key: CanonicalKey, options: CachedAskOptions): string {
  if (answer.scope === undefined) return key.value;
  const scope = answer.scope.endsWith('/') ? answer.scope.slice(0, -1) : answer.scope;
  if (scope !== '' && (key.value === scope || key.value.startsWith(`${scope}/`))) return scope;
  options.logger.warn({ authority: options.authority, scope: answer.scope }, 'answer scope does not contain the key: cached for the key only');
  return key.value;
}
