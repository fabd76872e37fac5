// Per-subject request rate limit → 429 with Retry-After. Runs after authenticate, so the bucket
// is the subject's (or the share link's); anonymous callers share one bucket per client address.
// When the limiter's store (Redis) fails, requests are let through (fail-open) and the outage is
// logged once: a rate limit protects capacity, it is not an access rule.
import type { Context, Next } from 'koa';
import { PublicError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { RateDecision, RateLimiter } from '../../ratelimit/types.js';
import type { AccessState } from './access-state.js';

export function rateLimit(limiter: RateLimiter, logger: Logger) {
  let degraded = false;
  return async function rateLimitMiddleware(ctx: Context, next: Next): Promise<void> {
    let decision: RateDecision;
    try {
      decision = await limiter.take(rateLimitKey(ctx));
      if (degraded) logger.info('rate limiter recovered');
      degraded = false;
    } catch (error) {
      if (!degraded) logger.warn({ err: { message: (error as Error).message } }, 'rate limiter unavailable: requests are not limited');
      degraded = true;
      await next();
      return;
    }
    if (!decision.allowed) throw new PublicError(429, 'too many requests', { 'Retry-After': String(decision.retryAfterSeconds) });
    await next();
  };
}

export function rateLimitKey(ctx: Context): string {
  const subject = (ctx.state as Partial<AccessState>).subject;
  if (subject?.via === 'share-link' && subject.share !== undefined) return `link:${subject.share.linkId}`;
  if (subject?.authenticated === true && subject.id !== null) return `sub:${subject.id}`;
  return `ip:${clientAddress(ctx)}`;
}

/**
 * The address nginx saw: the LAST X-Forwarded-For entry is the one our nginx appended
 * ($proxy_add_x_forwarded_for); earlier entries come from the client and are not trusted.
 */
export function clientAddress(ctx: Context): string {
  const forwarded = ctx.get('X-Forwarded-For');
  const last = forwarded.split(',').pop()?.trim();
  if (last) return last;
  return ctx.get('X-Real-IP').trim() || ctx.req.socket.remoteAddress || 'unknown';
}
