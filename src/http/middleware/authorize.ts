import type { Context, Next } from 'koa';
import { PublicError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import type { Policy } from '../../policy/types.js';
import type { AccessState } from './access-state.js';

export interface AuthorizeDeps {
  readonly policy: Policy;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** Asks the policy about state.store/key/action for state.subject, writes the audit line, and
 * ends the request with 401 (anonymous) or 403 (authenticated) unless allowed. */
export function authorize(deps: AuthorizeDeps) {
  return async function authorizeMiddleware(ctx: Context, next: Next): Promise<void> {
    const state = ctx.state as AccessState;
    const started = performance.now();
    const decision = await deps.policy.decide({ store: state.store.name, key: state.key, action: state.action }, state.subject);
    state.decision = decision;
    deps.metrics.decisions.inc({ store: state.store.name, decision: decision.effect });
    deps.logger.info(
      {
        audit: {
          requestId: state.requestId,
          subject: state.subject.id,
          authenticated: state.subject.authenticated,
          store: state.store.name,
          key: state.key.value,
          action: state.action,
          decision: decision.effect,
          rule: decision.ruleId,
          reason: decision.reason,
          latencyMs: Number((performance.now() - started).toFixed(3)),
        },
      },
      'access decision',
    );
    if (decision.effect === 'allow') {
      await next();
      return;
    }
    // An anonymous caller might be allowed once authenticated: 401 invites that; 403 does not.
    if (!state.subject.authenticated) {
      throw new PublicError(401, 'authentication required', { 'WWW-Authenticate': 'Bearer realm="sluice"' });
    }
    throw new PublicError(403, 'forbidden');
  };
}
