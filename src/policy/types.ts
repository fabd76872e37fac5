import type { Action } from '../config/schema.js';
import type { Subject } from '../auth/types.js';
import type { CanonicalKey } from '../storage/types.js';

export interface AccessRequest {
  readonly store: string;
  readonly key: CanonicalKey;
  readonly action: Action;
}

export interface Decision {
  readonly effect: 'allow' | 'deny';
  /** The rule that decided, or null for the default deny. */
  readonly ruleId: string | null;
  /** Short, log-safe explanation (never a token). */
  readonly reason: string;
}

export interface Policy {
  decide(request: AccessRequest, subject: Subject): Promise<Decision>;
}
