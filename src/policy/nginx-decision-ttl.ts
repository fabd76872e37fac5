// How long nginx may reuse one allow decision of the app (stores' `decisionCache`, docs/nginx.md
// "Decision cache"). The answer is the smallest of every bound the decision depends on; 0 means
// "never reuse", and wins whenever a request has a side effect or depends on something a cached
// answer could not see again.
import type { Subject } from '../auth/types.js';
import type { RuleConfig } from '../config/schema.js';
import { compileKeyPattern, type KeyPattern } from './key-pattern.js';
import type { Decision } from './types.js';

/**
 * An S3 decision carries a presigned URL: nginx must still start its request this long before the
 * URL expires (storage checks the expiry when the request arrives).
 */
export const PRESIGN_MARGIN_SECONDS = 15;

export interface DecisionTtlInput {
  /** stores.<name>.decisionCache.ttlSeconds (0 = off). */
  readonly storeSeconds: number;
  /** The deciding rule's cacheSeconds (undefined = no bound of its own). */
  readonly ruleSeconds: number | undefined;
  readonly decision: Decision;
  readonly subject: Subject;
  /** Lifetime of the presigned URL the decision carries (S3 stores), seconds. */
  readonly presignSeconds?: number | undefined;
  /** A request rate limit applies: every request must reach the limiter. */
  readonly rateLimited: boolean;
  /** What the rules that can apply to this store and key allow to conclude (RuleFacts.of). */
  readonly facts: StoreRuleFacts;
  /** Seconds since the epoch. */
  readonly now: number;
  /** The setting storeSeconds comes from, as the audit line names it (default "store"). */
  readonly setting?: string;
}

export interface DecisionTtl {
  readonly seconds: number;
  /** Why it is 0 (or which bound won), for the audit line; never a token. */
  readonly bound: string;
}

export function decisionTtl(input: DecisionTtlInput): DecisionTtl {
  const { decision, subject } = input;
  const setting = input.setting ?? 'store';
  if (input.storeSeconds <= 0) return never(`${setting}: decision cache off`);
  // Denials are never cached: a caller who just got access must not keep seeing a stale 403.
  if (decision.effect !== 'allow') return never('denied');
  if (input.rateLimited) return never('rate limit');
  if (input.facts.timeDependent) return never('time condition');
  const share = subject.via === 'share-link' ? subject.share : undefined;
  // Counted links take one use per GET: every request must reach the counter.
  if (share?.maxDownloads !== undefined) return never('counted share link');
  const bounds: [string, number][] = [[setting, input.storeSeconds]];
  if (share?.creator != null) {
    // The link's decision re-asks the policy as its creator and names no inner rule: bound it by
    // every rule of the store, and never reuse it when a webhook or plugin may have been asked.
    if (input.facts.delegates) return never('share link re-checked by a delegate rule');
    if (input.facts.minRuleSeconds !== undefined) bounds.push(['rule', input.facts.minRuleSeconds]);
  }
  if (input.ruleSeconds !== undefined) bounds.push(['rule', input.ruleSeconds]);
  if (decision.source === 'webhook' || decision.source === 'plugin') {
    // An answer the app itself took from its cache has already aged by an unknown amount: only a
    // fresh answer starts nginx's clock, so the authority's ttlSeconds bounds the total.
    if (decision.cacheHit === true) return never(`${decision.source}: cached answer`);
    bounds.push([decision.source, decision.ttlSeconds ?? 0]);
  }
  const exp = subject.claims.exp;
  if (typeof exp === 'number') bounds.push(['token exp', Math.floor(exp - input.now)]);
  else if (subject.authenticated && subject.via !== 'share-link') return never('token without exp');
  if (share !== undefined) bounds.push(['share link expiry', Math.floor(share.expiresAt - input.now)]);
  if (input.presignSeconds !== undefined) bounds.push(['presigned URL', input.presignSeconds - PRESIGN_MARGIN_SECONDS]);
  return smallest(bounds);
}

function smallest(bounds: readonly [string, number][]): DecisionTtl {
  let winner = bounds[0] as [string, number];
  for (const bound of bounds) if (bound[1] < winner[1]) winner = bound;
  return { seconds: Math.max(0, Math.floor(winner[1])), bound: winner[0] };
}

/**
 * Image decisions (transform.decisionCache) carry a worker ticket, reused as it is for as long as
 * nginx keeps the decision. nginx hands it to the worker only on a result-cache miss, after
 * waiting at most its cache lock (the worker's request timeout); the worker then fetches a
 * presigned source after at most its own deadline (queue wait). Both must still be valid then.
 */
export interface TransformTtlInput {
  /**
   * What the authorization allows: native form, decisionTtl over the token and the rules (with
   * storeSeconds = transform.decisionCache.ttlSeconds); imgproxy form, the setting itself.
   */
  readonly authorization: DecisionTtl;
  /** The ticket's own expiry, seconds since the epoch. */
  readonly ticketExpires: number;
  /** Lifetime of the presigned source URL inside the ticket (S3 sources). */
  readonly presignSeconds?: number | undefined;
  /** worker.requestTimeoutMs in whole seconds: nginx's cache-lock wait, and the job's own deadline. */
  readonly workerTimeoutSeconds: number;
  /** The URL's `expires:` (seconds since the epoch), or null. */
  readonly urlExpires: number | null;
  /** The answer's Cache-Control counts down to `expires:` (transform.ttl): a reused one would lie. */
  readonly clockedCacheControl: boolean;
  /** The ticket's budget client is an address that nginx's cache key does not hold. */
  readonly clientOutsideKey: boolean;
  /** Seconds since the epoch. */
  readonly now: number;
}

/** Margin beyond the waits above, as for presigned downloads. */
export const TICKET_MARGIN_SECONDS = 5;

export function transformDecisionTtl(input: TransformTtlInput): DecisionTtl {
  if (input.authorization.seconds <= 0) return input.authorization;
  if (input.clientOutsideKey) return never('client address not in the key');
  if (input.clockedCacheControl) return never('Cache-Control counts down to expires');
  const bounds: [string, number][] = [[input.authorization.bound, input.authorization.seconds]];
  // The ticket is checked when the worker receives it: after nginx's cache lock at the latest.
  bounds.push(['ticket', input.ticketExpires - input.now - input.workerTimeoutSeconds - TICKET_MARGIN_SECONDS]);
  // The presigned URL is checked when storage receives the worker's fetch: after the lock and the queue.
  if (input.presignSeconds !== undefined) bounds.push(['presigned URL', input.presignSeconds - 2 * input.workerTimeoutSeconds - TICKET_MARGIN_SECONDS]);
  if (input.urlExpires !== null) bounds.push(['URL expires', input.urlExpires - input.now]);
  return smallest(bounds);
}

function never(bound: string): DecisionTtl {
  return { seconds: 0, bound };
}

/** rule id (as decisions name it: `id` or "#<index>") → its cacheSeconds; the smallest when ids repeat. */
export function ruleCacheSeconds(rules: readonly RuleConfig[]): Map<string, number> {
  const result = new Map<string, number>();
  for (const [index, rule] of rules.entries()) {
    if (rule.cacheSeconds === undefined) continue;
    const id = rule.id ?? `#${index}`;
    result.set(id, Math.min(result.get(id) ?? Infinity, rule.cacheSeconds));
  }
  return result;
}

export interface StoreRuleFacts {
  /** A rule that can apply has a `time` condition: the same request may be decided otherwise a moment later. */
  readonly timeDependent: boolean;
  /** A rule that can apply delegates (webhook or plugin). */
  readonly delegates: boolean;
  /** The smallest cacheSeconds among the rules that can apply. */
  readonly minRuleSeconds: number | undefined;
}

/**
 * The rules of one store, compiled once; `of(key)` looks only at those whose pattern matches the
 * key (a rule that cannot match never decides, whatever the time or the caller).
 */
export class RuleFacts {
  private readonly rules: readonly { readonly rule: RuleConfig; readonly pattern: KeyPattern | null }[];

  constructor(rules: readonly RuleConfig[], store: string) {
    this.rules = rules
      .map((rule, index) => ({ rule, index }))
      .filter(({ rule }) => rule.store === '*' || rule.store === store)
      .map(({ rule, index }) => ({ rule, pattern: rule.key === undefined ? null : compileKeyPattern(rule.key, `rules[${index}]`) }));
  }

  of(key: string): StoreRuleFacts {
    return storeRuleFacts(this.rules.filter(({ pattern }) => pattern === null || pattern.match(key) !== null).map(({ rule }) => rule));
  }
}

/** Facts over rules already known to be able to apply. */
export function storeRuleFacts(relevant: readonly RuleConfig[]): StoreRuleFacts {
  const seconds = relevant.flatMap((rule) => (rule.cacheSeconds === undefined ? [] : [rule.cacheSeconds]));
  return {
    timeDependent: relevant.some((rule) => rule.when.some((condition) => 'time' in condition)),
    delegates: relevant.some((rule) => rule.effect === 'delegate'),
    minRuleSeconds: seconds.length === 0 ? undefined : Math.min(...seconds),
  };
}
