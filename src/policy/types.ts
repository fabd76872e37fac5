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
  /** Who decided: the rule itself, the plugin or webhook a delegate rule asked, or the default deny. */
  readonly source?: DecisionSource;
  /** The plugin's name when source is "plugin". */
  readonly plugin?: string;
  /** Whether a delegated answer came from the decision cache (rules are never cached). */
  readonly cacheHit?: boolean;
  /** How long a delegated answer is cached, in seconds (0 = not cached). */
  readonly ttlSeconds?: number;
  /** Bandwidth for the download in bytes per second (rule option limitRate → X-Accel-Limit-Rate). */
  readonly limitRate?: number;
}

/** `imgproxy-signature`: a signed imgproxy URL, whose verified signature is the whole decision. */
export type DecisionSource = 'rule' | 'plugin' | 'webhook' | 'default' | 'imgproxy-signature';

export interface Policy {
  decide(request: AccessRequest, subject: Subject): Promise<Decision>;
}
