// Sharing state in process memory: correct for ONE app instance only (revocations made on one
// instance are unknown to the others). Counted links are refused here: see countingUnavailable.
import { memoryState } from '../state/shared-state.js';
import { createSharingState } from './kv-state.js';
import type { SharingState } from './state.js';

export function createMemorySharingState(now: () => number = Date.now): SharingState {
  return createSharingState(memoryState(now), now);
}
