import type { Context, Next } from 'koa';
import { authenticationRequired, PublicError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import { recordDecision, type Metrics } from '../../observability/metrics.js';
import type { Decision, Policy } from '../../policy/types.js';
import type { AccessState } from './access-state.js';

export interface AuthorizeDeps {
  readonly policy: Policy;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** Asks the policy about state.store/key/action for state.subject, writes the audit line, and
 * ends the request with 401 (anonymous) or 403 (authenticated) unless allowed. A policy that
 * cannot decide (webhook or plugin down: 503) is audited as "error" and the error passes on. */
export function authorize(deps: AuthorizeDeps) {
  return async function authorizeMiddleware(ctx: Context, next: Next): Promise<void> {
    const state = ctx.state as AccessState;
    const started = performance.now();
    let decision: Decision;
    try {
      decision = await deps.policy.decide({ store: state.store.name, key: state.key, action: state.action }, state.subject);
    } catch (error) {
      auditError(deps.logger, state, started, error instanceof PublicError ? error.reason : 'internal error');
      throw error;
    }
    state.decision = decision;
    const decided = performance.now();
    recordDecision(deps.metrics, state.store.name, decision, (decided - started) / 1000);
    auditDecision(deps.logger, state, decision, decided - started);
    if (decision.effect === 'allow') {
      await next();
      return;
    }
    // An anonymous caller might be allowed once authenticated: 401 invites that; 403 does not.
    if (!state.subject.authenticated) {
      throw authenticationRequired();
    }
    throw new PublicError(403, 'forbidden');
  };
}

/** One line per decision. Subject id and key only: never tokens, claims or presigned URLs. */
export function auditDecision(logger: Logger, state: AccessState, decision: Decision, ms: number): void {
  // Built in one literal, in the order the line has always had (no intermediate objects).
  logger.info(
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
        source: decision.source ?? 'rule',
        plugin: decision.plugin,
        reason: decision.reason,
        cacheHit: decision.cacheHit ?? false,
        ttl: decision.ttlSeconds ?? null,
        limitRate: decision.limitRate,
        latencyMs: Math.round(ms * 1000) / 1000,
      },
    },
    'access decision',
  );
}

function auditError(logger: Logger, state: AccessState, started: number, reason: string): void {
  logger.info(
    {
      audit: {
        requestId: state.requestId,
        subject: state.subject.id,
        authenticated: state.subject.authenticated,
        store: state.store.name,
        key: state.key.value,
        action: state.action,
        decision: 'error',
        reason,
        latencyMs: Math.round((performance.now() - started) * 1000) / 1000,
      },
    },
    'access decision',
  );
}
