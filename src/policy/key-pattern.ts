// A rule's `key` pattern, compiled once with path-to-regexp v8 and matched against the
// canonical key value: exactly, case-sensitively, and without any decoding (a "%" in a key is
// a literal "%", so a pattern can never be tricked by "%2F" into spanning segments).
import { match, pathToRegexp, type MatchFunction, type ParamData } from 'path-to-regexp';
import { ConfigError } from '../config/errors.js';

/** Named pattern parameters; wildcard values are their segments joined with "/". */
export type KeyParams = Readonly<Record<string, string>>;

export interface KeyPattern {
  readonly source: string;
  readonly paramNames: readonly string[];
  /** The params when the key matches, null when it does not. */
  match(keyValue: string): KeyParams | null;
}

const OPTIONS = { decode: false, sensitive: true, end: true, trailing: false } as const;

/** `ruleLabel` names the rule in the start-up error, e.g. `rules[2] ("owner-files")`. */
export function compileKeyPattern(pattern: string, ruleLabel: string): KeyPattern {
  // Keys never start with "/"; the leading "/" is path-to-regexp's segment delimiter.
  const path = pattern.startsWith('/') ? pattern : `/${pattern}`;
  let matcher: MatchFunction<ParamData>;
  let paramNames: string[];
  try {
    matcher = match(path, OPTIONS);
    paramNames = pathToRegexp(path, OPTIONS).keys.map((key) => key.name);
  } catch (error) {
    const reason = reasonOf(error, path, path.length - pattern.length);
    throw new ConfigError([`${ruleLabel}: invalid key pattern ${JSON.stringify(pattern)}: ${reason}`]);
  }
  return {
    source: pattern,
    paramNames,
    match(keyValue: string): KeyParams | null {
      const result = matcher(`/${keyValue}`);
      if (result === false) return null;
      // Null prototype: param names come from config and may be anything, even "__proto__".
      const params: Record<string, string> = Object.create(null) as Record<string, string>;
      for (const [name, value] of Object.entries(result.params)) {
        if (value !== undefined) params[name] = Array.isArray(value) ? value.join('/') : value;
      }
      return params;
    },
  };
}

/** path-to-regexp's message without the repeated path and link, indexes relative to the pattern. */
function reasonOf(error: unknown, path: string, shift: number): string {
  const message = error instanceof Error ? error.message : String(error);
  return message
    .replace(/; visit \S+ for info$/, '')
    .replace(`: ${path}`, '')
    .replace(/at index (\d+)/, (_all, index: string) => `at index ${Math.max(0, Number(index) - shift)}`);
}
