import type { Middleware } from 'koa';
import type { Authenticator, Subject } from '../../auth/types.js';
import type { Action } from '../../config/schema.js';
import type { Logger } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import type { Decision, Policy } from '../../policy/types.js';
import type { CanonicalKey, Store } from '../../storage/types.js';

/** What the access pipeline puts on ctx.state, step by step (resolve → authenticate → authorize). */
export interface AccessState {
  requestId: string;
  store: Store;
  key: CanonicalKey;
  action: Action;
  subject: Subject;
  decision: Decision;
}

/** What every route built on the access pipeline (authenticate → [rate limit] → authorize) needs. */
export interface AccessPipelineDeps {
  readonly authenticator: Authenticator;
  readonly policy: Policy;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Request rate limit, run after authenticate (absent = no limit). */
  readonly rateLimit?: Middleware | undefined;
}

/** An optional middleware as a spreadable list, so pipelines read as one line. */
export function optional(middleware: Middleware | undefined): Middleware[] {
  return middleware === undefined ? [] : [middleware];
}
