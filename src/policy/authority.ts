// What a delegate rule asks: a plugin or the host application's webhook. Both answer
// allow / deny / abstain, optionally with a TTL and a scope; the engine adds cache facts.
import type { Subject } from '../auth/types.js';
import { PublicError } from '../errors.js';
import type { AccessRequest } from './types.js';

export type AnswerEffect = 'allow' | 'deny' | 'abstain';

/** One answer from a plugin or the webhook, before caching. */
export interface AuthorityAnswer {
  readonly effect: AnswerEffect;
  /** How long the answer may be reused (absent: policy.cache.defaultTtlSeconds; capped by maxTtlSeconds). */
  readonly ttlSeconds?: number;
  /** Key prefix of whole segments the answer covers (e.g. a media package); default: this key only. */
  readonly scope?: string;
  /** Short, log-safe explanation. */
  readonly reason?: string;
}

/** An answer as the engine sees it, with what the decision cache did. */
export interface Verdict {
  readonly effect: AnswerEffect;
  readonly reason?: string;
  readonly cacheHit: boolean;
  /** Seconds the answer is cached for (0 = not cached). */
  readonly ttlSeconds: number;
}

export interface Authority {
  /** "webhook" or the plugin's name (what a rule's `to` refers to). */
  readonly name: string;
  readonly source: 'plugin' | 'webhook';
  /** Rejects with PublicError(503) when the authority cannot answer: callers fail closed. */
  ask(request: AccessRequest, subject: Subject): Promise<Verdict>;
}

/** The one failure answer of an authority: clients see 503, the log sees the detail. */
export function authorizationUnavailable(detail: string): PublicError {
  return new PublicError(503, 'authorization unavailable', {}, new Error(detail));
}
