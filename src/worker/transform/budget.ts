// Per-client render budget: a token bucket (src/ratelimit, in memory or in Redis when shared
// state is configured, so several workers share it) that only renders spend. Cache hits are served
// by nginx and never get here, so a client re-reading its images costs nothing; a client
// inventing new URLs (a fresh `cb:` each time) runs dry and gets 429 with Retry-After.
import { PublicError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { RateDecision, RateLimiter } from '../../ratelimit/types.js';

export interface RenderBudget {
  /** Spends one render of `client`'s budget; throws PublicError(429) when there is none left. */
  spend(client: string): Promise<void>;
}

/** Kept apart from the app's request buckets (`sub:…`), which share the Redis prefix. */
const KEY_PREFIX = 'render:';

/**
 * When the bucket store (Redis) fails, renders are let through and the outage is logged once:
 * the concurrency limits still hold, and a budget protects capacity, it is not an access rule.
 */
export function createRenderBudget(limiter: RateLimiter, logger: Logger, onExhausted: () => void = () => undefined): RenderBudget {
  let degraded = false;
  return {
    async spend(client: string): Promise<void> {
      let decision: RateDecision;
      try {
        decision = await limiter.take(KEY_PREFIX + client);
        if (degraded) logger.info('render budget store recovered');
        degraded = false;
      } catch (error) {
        if (!degraded) logger.warn({ err: { message: (error as Error).message } }, 'render budget unavailable: renders are not budgeted');
        degraded = true;
        return;
      }
      if (decision.allowed) return;
      onExhausted();
      throw new PublicError(429, 'render budget exhausted', { 'Retry-After': String(decision.retryAfterSeconds) });
    },
  };
}
