import type { Subject } from '../../auth/types.js';
import type { Action } from '../../config/schema.js';
import type { Decision } from '../../policy/types.js';
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
