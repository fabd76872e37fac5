// Writes docs/configuration.md from the settings' zod schemas (src/config/*schema.ts): every
// setting with its type, default, environment variable and meaning. The meaning is the
// `.describe()` / `.meta({ description })` text on the schema field itself, so the schema stays
// the one source of truth. `npm run docs:config` rewrites the file; a unit test fails when the
// committed file and the schemas disagree, or when a setting has no description.
//
// Extra metadata keys the walker reads (display only, no effect on validation):
//   docDefault — the default as words, where the value is computed (e.g. "one per core");
//   docType    — the type as words, where the schema's shape says it badly (e.g. transforms).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { envNameFor } from '../src/config/errors.js';
import { configSchema } from '../src/config/schema.js';
import { defOf } from '../src/config/zod-def.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CONFIG_DOC = path.join(repo, 'docs', 'configuration.md');

/** One documented setting. */
export interface SettingRow {
  readonly path: string;
  readonly type: string;
  readonly defaultText: string;
  readonly env: string;
  readonly description: string | undefined;
}

/** A schema without its wrappers, with what the wrappers said. */
interface Unwrapped {
  readonly base: z.ZodType;
  readonly description?: string;
  readonly docDefault?: string;
  readonly docType?: string;
  /** The `.default()` value (output side); `undefined` when none. */
  readonly defaultValue?: unknown;
  readonly hasDefault: boolean;
}

function unwrap(schema: z.ZodType): Unwrapped {
  let current = schema;
  let description: string | undefined;
  let docDefault: string | undefined;
  let docType: string | undefined;
  let defaultValue: unknown;
  let hasDefault = false;
  for (let depth = 0; depth < 32; depth += 1) {
    const meta = z.globalRegistry.get(current);
    description ??= meta?.description;
    docDefault ??= typeof meta?.docDefault === 'string' ? meta.docDefault : undefined;
    docType ??= typeof meta?.docType === 'string' ? meta.docType : undefined;
    const def = defOf(current);
    const plain = typeof def.defaultValue === 'object' && def.defaultValue !== null && !Array.isArray(def.defaultValue);
    if ((def.type === 'default' || (def.type === 'prefault' && !plain)) && !hasDefault) {
      hasDefault = true;
      defaultValue = def.defaultValue;
    }
    if (['optional', 'nullable', 'default', 'prefault', 'catch', 'readonly', 'nonoptional'].includes(def.type)) {
      current = def.innerType as z.ZodType;
    } else if (def.type === 'pipe') {
      // What a config file has to provide is the input side; a transform's output is derived.
      current = defOf(def.in as z.ZodType).type === 'transform' ? (def.out as z.ZodType) : (def.in as z.ZodType);
    } else break;
  }
  return { base: current, description, docDefault, docType, defaultValue, hasDefault };
}

function typeText(schema: z.ZodType): string {
  const { base, docType } = unwrap(schema);
  if (docType !== undefined) return docType;
  const def = defOf(base);
  switch (def.type) {
    case 'string':
      if (def.format === 'url') return 'URL';
      if (def.format === 'datetime') return 'ISO 8601 time';
      return 'string';
    case 'number': {
      let integer = false;
      let min: string | undefined;
      let max: string | undefined;
      for (const check of def.checks ?? []) {
        const c = defOf(check) as unknown as { check: string; format?: string; value?: number; inclusive?: boolean };
        if (c.check === 'number_format' && c.format !== undefined && /int/.test(c.format)) integer = true;
        if (c.check === 'greater_than' && c.value !== undefined) min = `${c.inclusive ? '≥' : '>'} ${fmt(c.value)}`;
        if (c.check === 'less_than' && c.value !== undefined) max = `${c.inclusive ? '≤' : '<'} ${fmt(c.value)}`;
      }
      const word = integer ? 'integer' : 'number';
      if (min?.startsWith('≥') && max?.startsWith('≤')) return `${word} ${min.slice(2)}–${max.slice(2)}`;
      return [word, [min, max].filter((b) => b !== undefined).join(', ')].filter((part) => part !== '').join(' ');
    }
    case 'boolean':
      return 'boolean';
    case 'enum':
      return Object.values(def.entries ?? {})
        .map((v) => `\`${String(v)}\``)
        .join(', ');
    case 'literal':
      return (def.values ?? []).map((v) => `\`${String(v)}\``).join(', ');
    case 'array': {
      const element = unwrap(def.element as z.ZodType).base;
      return defOf(element).type === 'object' ? 'list of objects' : `list of ${typeText(def.element as z.ZodType)}`;
    }
    case 'record':
      return `map: ${typeText(def.keyType as z.ZodType)} → ${typeText(def.valueType as z.ZodType)}`;
    case 'union':
      return (def.options ?? []).map((option) => typeText(option)).join(' or ');
    case 'object':
      return 'object';
    default:
      return 'any';
  }
}

function fmt(n: number): string {
  return n >= 10_000 ? n.toLocaleString('en-US') : String(n);
}

function defaultText(value: unknown): string {
  if (value === undefined) return '—';
  if (typeof value === 'string') return `\`${value}\``;
  if (typeof value === 'number') return `\`${fmt(value)}\``;
  return `\`${JSON.stringify(value)}\``;
}

interface Place {
  /** Display path segments ("stores", "<name>", "root"). */
  readonly path: readonly string[];
  /** The variable that sets this place, or the one of the list it sits in. */
  readonly env: string;
  /** Inside a list: only the whole list can be set from the environment (as JSON). */
  readonly inList: boolean;
  /** The default an enclosing object's `.default()` gives this place. */
  readonly inherited: unknown;
}

type Rows = Map<string, SettingRow & { readonly variants: readonly string[] }>;

/** Rows for `schema` at `place`, depth first, in the schema's own field order. */
function walk(schema: z.ZodType, place: Place, out: Rows, variant?: string): void {
  const unwrapped = unwrap(schema);
  const def = defOf(unwrapped.base);
  const structured = unwrapped.docType === undefined;
  const defaults = unwrapped.hasDefault ? unwrapped.defaultValue : place.inherited;
  const child = (key: string): Place => {
    const next = [...place.path, key];
    const inherited = typeof defaults === 'object' && defaults !== null && !Array.isArray(defaults) ? (defaults as Record<string, unknown>)[key] : undefined;
    return { path: next, env: place.inList ? place.env : envNameFor(next), inList: place.inList, inherited };
  };
  if (structured && def.type === 'object') {
    for (const [key, field] of Object.entries(def.shape ?? {})) walk(field, child(key), out, variant);
    return;
  }
  if (structured && def.type === 'union' && (def.options ?? []).every((option) => defOf(unwrap(option).base).type === 'object')) {
    // A discriminated union (the store types): each variant's settings, named by its literal.
    for (const option of def.options ?? []) {
      const shape = defOf(unwrap(option).base).shape ?? {};
      const literal = Object.values(shape)
        .map((field) => defOf(unwrap(field).base))
        .find((fieldDef) => fieldDef.type === 'literal');
      walk(option, place, out, literal === undefined ? variant : String(literal.values?.[0]));
    }
    return;
  }
  if (structured && def.type === 'record' && ['object', 'union'].includes(defOf(unwrap(def.valueType as z.ZodType).base).type)) {
    walk(def.valueType as z.ZodType, child(place.path[place.path.length - 1] === 'stores' ? '<name>' : '<key>'), out, variant);
    return;
  }
  addRow(out, {
    path: place.path.join('.'),
    type: typeText(schema),
    defaultText: unwrapped.docDefault ?? defaultText(defaults),
    env: place.inList ? `in \`${place.env}\`` : `\`${place.env}\``,
    description: unwrapped.description,
    variants: variant === undefined ? [] : [variant],
  });
  if (structured && def.type === 'array' && defOf(unwrap(def.element as z.ZodType).base).type === 'object') {
    const last = place.path[place.path.length - 1] as string;
    walk(def.element as z.ZodType, { path: [...place.path.slice(0, -1), `${last}[]`], env: place.env, inList: true, inherited: undefined }, out, variant);
  }
}

/** The same setting in another variant: one row, its types merged, the variants listed. */
function addRow(out: Rows, row: SettingRow & { readonly variants: readonly string[] }): void {
  const seen = out.get(row.path);
  if (seen === undefined) {
    out.set(row.path, row);
    return;
  }
  const type = seen.type === row.type ? seen.type : [...new Set([...seen.type.split(', '), ...row.type.split(', ')])].join(', ');
  out.set(row.path, { ...seen, type, description: seen.description ?? row.description, variants: [...seen.variants, ...row.variants] });
}

/** Every setting of the config schema, in schema order. */
export function settingRows(): SettingRow[] {
  const out: Rows = new Map();
  walk(configSchema, { path: [], env: 'SLUICE', inList: false, inherited: undefined }, out);
  // A variant is worth naming only where a setting is not in every variant of its union.
  const variantCount = new Set([...out.values()].flatMap((row) => row.variants)).size;
  return [...out.values()].map(({ variants, ...row }) =>
    variants.length > 0 && variants.length < variantCount ? { ...row, path: `${row.path} (${variants.join(', ')})` } : row,
  );
}

/** Sections of the page: top-level keys, in schema order; plain values share the first one. */
const SECTIONS: Readonly<Record<string, { title: string; more?: string }>> = {
  '': { title: 'General' },
  stores: { title: 'Stores', more: '[nginx.md](nginx.md), [encryption.md](encryption.md), [operations.md](operations.md#dynamic-buckets)' },
  auth: { title: 'Authentication', more: '[authorization.md](authorization.md#authentication)' },
  rules: { title: 'Rules', more: '[authorization.md](authorization.md)' },
  policy: { title: 'Policy engine', more: '[authorization.md](authorization.md)' },
  sharing: { title: 'Share links, revocation, rate limits, auth_request', more: '[sharing.md](sharing.md)' },
  transform: { title: 'Image transforms', more: '[transforms.md](transforms.md)' },
  worker: { title: 'Worker', more: '[transforms.md](transforms.md), [encryption.md](encryption.md)' },
  ops: { title: 'Operations', more: '[operations.md](operations.md)' },
  uploads: { title: 'Uploads', more: '[uploads.md](uploads.md)' },
  encryption: { title: 'Encryption at rest', more: '[encryption.md](encryption.md)' },
  nginx: { title: 'nginx', more: '[nginx.md](nginx.md)' },
};

const HEADER = `# Configuration reference

<!-- Generated by \`npm run docs:config\` (scripts/config-docs.ts) from the zod schemas in
src/config/*schema.ts. Do not edit by hand: change a setting's \`.describe()\` text and regenerate.
test/unit/config-docs.test.ts fails when this file and the schemas disagree. -->

Settings come from an optional YAML or JSON file named by \`SLUICE_CONFIG\`, overridden by
\`SLUICE_*\` environment variables. Everything is validated at start-up; a bad value stops Sluice
with a message naming the setting and its variable, e.g.
\`stores.docs.root (SLUICE_STORES__DOCS__ROOT): "/srv/docs" does not exist\`. The starting point
for a real deployment is [nginx/examples/sluice.example.yaml](../nginx/examples/sluice.example.yaml)
(see the README's *Minimal production setup*).

**Environment mapping:** \`SLUICE_\` + the path, \`__\` between levels, \`_\` between camelCase words:
\`SLUICE_PORT=8081\` → \`port\`, \`SLUICE_AUTH__COOKIE_NAME=session\` → \`auth.cookieName\`,
\`SLUICE_STORES__DOCS__ROOT=/srv/docs\` → \`stores.docs.root\` (store names keep their case),
\`SLUICE_RULES='[…]'\` → \`rules\`. Each value is typed by the setting it sets, never by how it
looks: text settings (keys, salts, secrets, bucket names) take the value as written —
\`SLUICE_TRANSFORM__KEYS=736563726574\` stays hex —; numbers and \`true\`/\`false\` are parsed only
where the setting is a number or a boolean; lists and mappings are JSON. Settings inside a list
(\`rules[]\`, \`auth.keys[]\`, …) are set with the whole list as JSON. A value of the wrong type
stops Sluice naming the variable, e.g.
\`worker.concurrency (SLUICE_WORKER__CONCURRENCY): Invalid input: expected number, received string\`.
A JSON string literal (\`'"…"'\`), the old way to keep digit-only values text, is still understood.

**Shortcuts:** \`SLUICE_JWT_SECRET=…\` sets \`auth.keys\` to one HS256 key with that secret.
imgproxy's \`IMGPROXY_*\` variables are read too: see
[transforms.md, *Switching from imgproxy*](transforms.md#switching-from-imgproxy).

In the tables, \`<name>\` stands for a store name (lowercase letters, digits, \`-\`, \`_\`) and
\`[]\` for each item of a list; "—" means unset. A setting marked (fs) or (s3) exists for that
store type only.
`;

const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** The whole page, as committed. */
export function renderConfigReference(rows: readonly SettingRow[] = settingRows()): string {
  const sections = new Map<string, SettingRow[]>();
  for (const row of rows) {
    const top = row.path.split(/[.[ ]/)[0] as string;
    const key = top in SECTIONS ? top : '';
    sections.set(key, [...(sections.get(key) ?? []), row]);
  }
  const order = ['', ...Object.keys(SECTIONS).filter((key) => key !== '')];
  const parts = [HEADER];
  for (const key of order) {
    const section = sections.get(key);
    if (section === undefined) continue;
    const { title, more } = SECTIONS[key] as { title: string; more?: string };
    parts.push(`## ${title}\n`);
    if (more !== undefined) parts.push(`More: ${more}.\n`);
    parts.push('| setting | type | default | environment | meaning |\n|---|---|---|---|---|');
    for (const row of section) {
      parts.push(`| \`${cell(row.path)}\` | ${cell(row.type)} | ${cell(row.defaultText)} | ${cell(row.env)} | ${cell(row.description ?? '')} |`);
    }
    parts.push('');
  }
  return `${parts.join('\n')}`;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const rows = settingRows();
  const missing = rows.filter((row) => row.description === undefined).map((row) => row.path);
  if (missing.length > 0) process.stderr.write(`settings without a description (add .describe() to the schema):\n  ${missing.join('\n  ')}\n`);
  await writeFile(CONFIG_DOC, renderConfigReference(rows));
  process.stdout.write(`wrote ${path.relative(repo, CONFIG_DOC)} (${rows.length} settings)\n`);
  if (missing.length > 0) process.exitCode = 1;
}
