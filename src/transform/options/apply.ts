// Builds a plan from option calls: the `default` preset first, then the calls in order (later
// options override earlier ones), presets expanded where they are named.
import { DEFAULT_PLAN, type TransformPlan } from '../plan.js';
import { DEFAULT_PRESET, type PresetTable } from '../presets.js';
import type { OptionCall } from './call.js';
import { invalidOption } from './errors.js';
import type { OptionContext } from './spec.js';
import { lookupOption } from './table.js';

export interface OptionRules {
  readonly presets: PresetTable;
  /** Long names allowed in URLs; null = all. Options inside presets are always allowed. */
  readonly allowedOptions: ReadonlySet<string> | null;
  /** Unix seconds. */
  readonly nowSeconds: number;
}

export function buildPlan(calls: readonly OptionCall[], rules: OptionRules): TransformPlan {
  const start = rules.presets.has(DEFAULT_PRESET) ? expandPresets(DEFAULT_PLAN, [DEFAULT_PRESET], rules, []) : DEFAULT_PLAN;
  return applyCalls(start, calls, rules, [], false);
}

function applyCalls(plan: TransformPlan, calls: readonly OptionCall[], rules: OptionRules, usedPresets: readonly string[], fromPreset: boolean): TransformPlan {
  const context: OptionContext = {
    nowSeconds: rules.nowSeconds,
    applyPresets: (current, names) => expandPresets(current, names, rules, usedPresets),
  };
  let next = plan;
  for (const call of calls) {
    const spec = lookupOption(call.name);
    if (spec === undefined) throw invalidOption(call.name);
    if (!fromPreset && rules.allowedOptions !== null && !rules.allowedOptions.has(spec.name)) throw invalidOption(call.name);
    next = spec.apply(next, call.args, context);
  }
  return next;
}

/**
 * A preset already being expanded is skipped, as imgproxy does (start-up validation refuses
 * cyclic presets; this guard keeps a request from recursing forever regardless).
 */
function expandPresets(plan: TransformPlan, names: readonly string[], rules: OptionRules, usedPresets: readonly string[]): TransformPlan {
  let next = plan;
  for (const name of names) {
    const calls = rules.presets.get(name);
    if (calls === undefined) throw invalidOption('preset');
    if (usedPresets.includes(name)) continue;
    next = applyCalls(next, calls, rules, [...usedPresets, name], true);
  }
  return next;
}
