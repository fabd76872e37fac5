// The option table: every imgproxy option Sluice understands, by long name and aliases, like
// imgproxy's options/parser. Adding an option = adding one row.
import { GEOMETRY_OPTIONS } from './geometry-options.js';
import { OUTPUT_OPTIONS } from './output-options.js';
import type { OptionSpec } from './spec.js';

export const OPTION_TABLE: readonly OptionSpec[] = [...GEOMETRY_OPTIONS, ...OUTPUT_OPTIONS];

const BY_NAME: ReadonlyMap<string, OptionSpec> = new Map(OPTION_TABLE.flatMap((spec) => [spec.name, ...spec.aliases].map((name) => [name, spec] as const)));

/** The table row for a long name or alias (`rs` → resize), or undefined. */
export function lookupOption(name: string): OptionSpec | undefined {
  return BY_NAME.get(name);
}

/** The long name for a long name or alias; undefined for unknown names. */
export function resolveOptionName(name: string): string | undefined {
  return BY_NAME.get(name)?.name;
}
