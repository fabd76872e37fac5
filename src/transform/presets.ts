// Presets: named option lists from the configuration (`thumb: "rs:fill:200:200/q:70"`), used in
// URLs as `preset:thumb` / `pr:thumb`. The `default` preset applies to every request first.
// Problems are found at start-up (unknown options, unknown or cyclic preset references) so a
// typo never becomes a 404 in production.
import { parseOptionCall, type OptionCall } from './options/call.js';
import { lookupOption } from './options/table.js';

export type PresetTable = ReadonlyMap<string, readonly OptionCall[]>;

export const DEFAULT_PRESET = 'default';

interface Parsed {
  readonly calls: readonly OptionCall[];
  readonly problems: readonly string[];
}

function parsePreset(text: string): Parsed {
  const calls: OptionCall[] = [];
  const problems: string[] = [];
  for (const segment of text.split('/').filter((s) => s !== '')) {
    const call = parseOptionCall(segment);
    if (call === null) problems.push(`"${segment}" is not an option (name:arguments)`);
    else if (lookupOption(call.name) === undefined) problems.push(`unknown option "${call.name}"`);
    else calls.push(call);
  }
  if (calls.length === 0 && problems.length === 0) problems.push('a preset needs at least one option');
  return { calls, problems };
}

/** Presets another list of calls refers to through `preset`/`pr`. */
function referencedPresets(calls: readonly OptionCall[]): string[] {
  return calls.filter((call) => lookupOption(call.name)?.name === 'preset').flatMap((call) => call.args);
}

/** Validated at start-up; at request time the table is trusted. */
export function compilePresets(presets: Readonly<Record<string, string>>): PresetTable {
  return new Map(Object.entries(presets).map(([name, text]) => [name, parsePreset(text).calls]));
}

/** Every problem of the configured presets, each naming its preset. */
export function presetProblems(presets: Readonly<Record<string, string>>): { preset: string; message: string }[] {
  const problems: { preset: string; message: string }[] = [];
  const table = new Map<string, readonly OptionCall[]>();
  for (const [preset, text] of Object.entries(presets)) {
    const parsed = parsePreset(text);
    table.set(preset, parsed.calls);
    problems.push(...parsed.problems.map((message) => ({ preset, message })));
  }
  for (const [preset, calls] of table) {
    for (const name of referencedPresets(calls)) {
      if (!table.has(name)) problems.push({ preset, message: `refers to unknown preset "${name}"` });
    }
    const cycle = findCycle(preset, table, [preset]);
    if (cycle !== null) problems.push({ preset, message: `refers to itself: ${cycle.join(' → ')}` });
  }
  return problems;
}

function findCycle(start: string, table: PresetTable, path: readonly string[]): string[] | null {
  const current = path[path.length - 1] as string;
  for (const next of referencedPresets(table.get(current) ?? [])) {
    if (next === start) return [...path, next];
    if (path.includes(next)) continue; // a cycle not through `start`: reported for its own members
    const found = findCycle(start, table, [...path, next]);
    if (found !== null) return found;
  }
  return null;
}
