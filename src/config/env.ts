// Maps SLUICE_* environment variables onto the config tree (12-factor).
//   SLUICE_PORT=8081                      → port
//   SLUICE_AUTH__COOKIE_NAME=session      → auth.cookieName   ("__" nests, "_" joins camelCase words)
//   SLUICE_STORES__DOCS__ROOT=/srv/docs   → stores.docs.root  (store names are kept lower-case as written)
//   SLUICE_RULES='[...]'                  → rules             (lists and mappings are JSON)
//   SLUICE_JWT_SECRET=...                 → auth.keys = [{ algorithms: [HS256], secret }]  (shortcut)
// SLUICE_CONFIG names the optional config file and is not itself a setting.
//
// Values are typed by the schema field they set, never guessed from how they look: a hex key
// made only of digits (`SLUICE_TRANSFORM__KEYS=736563726574`) stays the string it is; a number
// or boolean is parsed only where the schema expects one; a value of the wrong type is left as
// text, so validation reports it with the variable's name.
import type { z } from 'zod';
import { configSchema } from './schema.js';
import { defOf, type ZodDef } from './zod-def.js';

type Tree = Record<string, unknown>;

const NOT_SETTINGS = new Set(['SLUICE_CONFIG']);

/** `schema`: the settings' schema (default configSchema); types every value by its field. */
export function configFromEnv(env: NodeJS.ProcessEnv, schema: z.ZodType = configSchema): Tree {
  const tree: Tree = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('SLUICE_') || raw === undefined || NOT_SETTINGS.has(name)) continue;
    if (name === 'SLUICE_JWT_SECRET') {
      setPath(tree, ['auth', 'keys'], [{ algorithms: ['HS256'], secret: raw }]);
      continue;
    }
    const path = envPath(name);
    setPath(tree, path, coerce(raw, kindsAt(schema, path)));
  }
  return tree;
}

/** SLUICE_STORES__MEDIA_2__FORCE_PATH_STYLE → ['stores', 'media_2', 'forcePathStyle']. */
export function envPath(name: string): string[] {
  return name
    .slice('SLUICE_'.length)
    .split('__')
    .map((segment, index, all) => (index > 0 && all[index - 1] === 'STORES' ? segment.toLowerCase() : camelCase(segment)));
}

function camelCase(segment: string): string {
  return segment.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** What a field accepts, as far as text from the environment is concerned. */
interface Kinds {
  string: boolean;
  number: boolean;
  boolean: boolean;
  /** Arrays, objects, records: written as JSON. */
  structured: boolean;
  /** The field is unknown to the schema (validation reports it): the value is kept as text. */
  unknown: boolean;
}

const NONE: Kinds = { string: false, number: false, boolean: false, structured: false, unknown: false };
const ANY: Kinds = { string: true, number: true, boolean: true, structured: true, unknown: false };

function union(a: Kinds, b: Kinds): Kinds {
  return {
    string: a.string || b.string,
    number: a.number || b.number,
    boolean: a.boolean || b.boolean,
    structured: a.structured || b.structured,
    unknown: a.unknown || b.unknown,
  };
}

/** The kinds of value the schema accepts at `path` (unions: any option's). */
export function kindsAt(schema: z.ZodType, path: readonly string[], depth = 0): Kinds {
  if (depth > 64) return ANY;
  const def = defOf(schema);
  const next = (inner: z.ZodType | undefined, rest: readonly string[] = path): Kinds => (inner === undefined ? ANY : kindsAt(inner, rest, depth + 1));
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'catch':
    case 'readonly':
    case 'nonoptional':
      return next(def.innerType);
    case 'pipe':
      // the input side is what the environment has to provide (a transform's output is derived)
      return defOf(def.in as z.ZodType).type === 'transform' ? next(def.out) : next(def.in);
    case 'lazy':
      return next(def.getter?.());
    case 'union': {
      // a field of some options only (one store type's setting) takes that option's type
      const kinds = (def.options ?? []).map((option) => next(option));
      const known = kinds.filter((k) => !k.unknown);
      return known.length === 0 ? { ...NONE, unknown: true } : known.reduce(union, NONE);
    }
    case 'object': {
      if (path.length === 0) return { ...NONE, structured: true };
      const [head, ...rest] = path as [string, ...string[]];
      const field = def.shape?.[head];
      if (field !== undefined) return next(field, rest);
      return def.catchall !== undefined && defOf(def.catchall).type !== 'never' ? next(def.catchall, rest) : { ...NONE, unknown: true };
    }
    case 'record':
      return path.length === 0 ? { ...NONE, structured: true } : next(def.valueType, path.slice(1));
    case 'array':
    case 'tuple':
      return path.length === 0 ? { ...NONE, structured: true } : next(def.element, path.slice(1));
    default:
      if (path.length > 0) return { ...NONE, unknown: true };
      return leafKinds(def);
  }
}

function leafKinds(def: ZodDef): Kinds {
  switch (def.type) {
    case 'string':
    case 'template_literal':
      return { ...NONE, string: true };
    case 'number':
    case 'int':
    case 'bigint':
      return { ...NONE, number: true };
    case 'boolean':
      return { ...NONE, boolean: true };
    case 'enum':
    case 'literal': {
      const values = def.values ?? Object.values(def.entries ?? {});
      // Fixed words ("auto", "info") are not free text: beside them a number still parses
      // (`processes: number | "auto"` takes SLUICE_OPS__PROCESSES=3 as 3); a word stays text.
      return { ...NONE, number: values.some((v) => typeof v === 'number'), boolean: values.some((v) => typeof v === 'boolean') };
    }
    default:
      return ANY;
  }
}

/**
 * Text → the type the field takes. Strings are taken as written (a JSON string literal,
 * `"…"`, is unwrapped: the old way to keep digit-only hex a string); numbers and booleans are
 * parsed only where accepted; lists and mappings are JSON. Anything that does not parse stays
 * text and fails validation, which names the variable.
 */
function coerce(raw: string, kinds: Kinds): unknown {
  const trimmed = raw.trim();
  if (kinds.unknown) return raw;
  if (kinds.structured && (trimmed.startsWith('[') || trimmed.startsWith('{'))) {
    const parsed = parseJson(trimmed);
    if (parsed !== undefined) return parsed;
  }
  if (kinds.boolean && (trimmed === 'true' || trimmed === 'false')) return trimmed === 'true';
  if (kinds.number && /^-?(?:\d+|\d*\.\d+)(?:[eE][+-]?\d+)?$/.test(trimmed) && !kinds.string) return Number(trimmed);
  if (trimmed.startsWith('"') && trimmed.endsWith('"') && trimmed.length >= 2) {
    const parsed = parseJson(trimmed);
    if (typeof parsed === 'string') return parsed;
  }
  return raw;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function setPath(tree: Tree, path: string[], value: unknown): void {
  let node = tree;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Tree;
  }
  node[path[path.length - 1] as string] = value;
}

/** Deep merge where `override` wins; arrays are replaced, not concatenated. */
export function mergeConfig(base: Tree, override: Tree): Tree {
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = out[key];
    const bothObjects =
      typeof value === 'object' && value !== null && !Array.isArray(value) && typeof current === 'object' && current !== null && !Array.isArray(current);
    out[key] = bothObjects ? mergeConfig(current as Tree, value as Tree) : value;
  }
  return out;
}
