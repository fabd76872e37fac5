// The shape of one row of the option table.
import type { TransformPlan } from '../plan.js';
import type { Args } from './args.js';

export interface OptionContext {
  /** Unix seconds, for `expires`. */
  readonly nowSeconds: number;
  /** Applies named presets in order (recursion-guarded by the caller). */
  applyPresets(plan: TransformPlan, names: readonly string[]): TransformPlan;
}

export interface OptionSpec {
  /** imgproxy's long name: what `allowedOptions` and error messages use. */
  readonly name: string;
  readonly aliases: readonly string[];
  /** Returns the plan with this option applied; throws PublicError 404 on a bad argument. */
  readonly apply: (plan: TransformPlan, args: Args, context: OptionContext) => TransformPlan;
}
