// Turns a measured value and a BENCH.md goal into a met / not-met verdict with its margin.
import type { GoalResult } from './types.js';

const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

/** Goal "value ≥ target": margin is how far above (or below) the target, relative to it. */
export function atLeast(goal: string, measured: number, target: number, unit = '×', digits = 2): GoalResult {
  if (!Number.isFinite(measured)) return { goal, measured: 'n/a', met: null, margin: 'not measured' };
  return { goal, measured: `${measured.toFixed(digits)}${unit}`, met: measured >= target, margin: pct(measured / target - 1) };
}

/** Goal "value ≤ target": a positive margin means headroom below the target. */
export function atMost(goal: string, measured: number, target: number, unit = '', digits = 2): GoalResult {
  if (!Number.isFinite(measured)) return { goal, measured: 'n/a', met: null, margin: 'not measured' };
  return { goal, measured: `${measured.toFixed(digits)}${unit}`, met: measured <= target, margin: pct(1 - measured / target) };
}
