// imgproxy's configuration, read as imgproxy reads it: the IMGPROXY_* variables of an existing
// imgproxy deployment become Sluice settings, so switching means pointing the URL helper at
// Sluice and nothing else. Each variable is parsed with imgproxy's own rules (hex lists split on
// ",", megapixels as a float, Go booleans, `name=options` presets); a variable Sluice does not
// support is named in a warning, or refused where ignoring it would weaken security; a setting
// also given by the config file or a SLUICE_* variable with another value is an error.
// The table below is the documentation too (docs/transforms.md "Switching from imgproxy").

type Tree = Record<string, unknown>;

export interface ImgproxyMapping {
  /** Settings from variables that are set (they may not be contradicted). */
  readonly explicit: Tree;
  /** imgproxy's own defaults where they differ from Sluice's (the config file and SLUICE_* win). */
  readonly defaults: Tree;
  /** Dotted setting path → the IMGPROXY_* variable it came from (for error messages). */
  readonly origins: ReadonlyMap<string, string>;
  readonly warnings: readonly string[];
  readonly errors: readonly string[];
}

/** The fs store `local:///` sources are read from when IMGPROXY_LOCAL_FILESYSTEM_ROOT is set. */
export const IMGPROXY_LOCAL_STORE = 'local';

const TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

class Invalid extends Error {}

/** Go's strconv.ParseBool, as imgproxy's env.Bool. */
function goBool(value: string): boolean {
  if (TRUE.has(value)) return true;
  if (FALSE.has(value)) return false;
  throw new Invalid('a boolean (1, t, true, 0, f, false)');
}

function goInt(value: string): number {
  if (!/^[+-]?\d{1,15}$/.test(value.trim())) throw new Invalid('an integer');
  return Number(value.trim());
}

/** imgproxy's MegaInt: a float number of millions. */
function megaInt(value: string): number {
  if (!/^[+-]?(?:\d+\.?\d*|\.\d+)$/.test(value.trim())) throw new Invalid('a number of megapixels, such as 50 or 16.8');
  return Math.floor(Number(value.trim()) * 1_000_000);
}

/** imgproxy's HexSlice: comma-separated hex strings, kept as (lower-case) hex text — never numbers. */
function hexList(value: string): string[] {
  const parts = value.split(',').map((part) => part.trim());
  for (const part of parts) if (!/^(?:[0-9a-fA-F]{2})*$/.test(part)) throw new Invalid('hex strings separated by ","');
  return parts.map((part) => part.toLowerCase());
}

const list = (value: string): string[] =>
  value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');

/** `jpeg=80,webp=70` (imgproxy's ImageTypesQuality). */
function formatQuality(value: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const pair of list(value)) {
    const [name, quality] = pair.split('=').map((part) => part.trim()) as [string, string | undefined];
    const format = name.toLowerCase() === 'jpg' ? 'jpeg' : name.toLowerCase();
    const q = quality === undefined ? Number.NaN : Number(quality);
    if (!Number.isInteger(q) || q < 1 || q > 100) throw new Invalid('format=quality pairs such as jpeg=80,webp=79');
    if (['jpeg', 'png', 'webp', 'avif', 'gif'].includes(format)) out[format] = q;
  }
  return out;
}

/** `name=option/option,name2=…` (separator IMGPROXY_PRESETS_SEPARATOR, default ","). */
function presets(value: string, separator: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of value
    .split(separator)
    .map((part) => part.trim())
    .filter((part) => part !== '')) {
    const at = entry.indexOf('=');
    if (at <= 0) throw new Invalid('name=options entries, such as thumb=rs:fill:200:200/q:70');
    out[entry.slice(0, at).trim()] = entry.slice(at + 1).trim();
  }
  return out;
}

interface Context {
  readonly env: NodeJS.ProcessEnv;
  set(variable: string, path: string, value: unknown): void;
  setDefault(path: string, value: unknown): void;
  warn(message: string): void;
}

interface Mapping {
  /** Variables read by this row (the first one names it in the table). */
  readonly names: readonly string[];
  /** Sluice setting(s), for the documentation table. */
  readonly setting: string;
  readonly apply: (value: string, name: string, context: Context) => void;
}

const direct =
  <T>(path: string, parse: (value: string) => T) =>
  (value: string, name: string, context: Context): void =>
    context.set(name, path, parse(value));

/** Every IMGPROXY_* variable Sluice reads, and what it sets. */
export const IMGPROXY_VARIABLES: readonly Mapping[] = [
  { names: ['IMGPROXY_KEY'], setting: 'transform.keys', apply: direct('transform.keys', hexList) },
  { names: ['IMGPROXY_SALT'], setting: 'transform.salts', apply: direct('transform.salts', hexList) },
  { names: ['IMGPROXY_SIGNATURE_SIZE'], setting: 'transform.signatureSize', apply: direct('transform.signatureSize', goInt) },
  {
    names: ['IMGPROXY_PATH_PREFIX'],
    setting: 'transform.imgproxyPrefix',
    apply: (value, name, context) => {
      if (value !== '') context.set(name, 'transform.imgproxyPrefix', value.replace(/\/+$/, ''));
    },
  },
  {
    names: ['IMGPROXY_ALLOWED_SOURCES'],
    setting: 'transform.allowedSources',
    apply: (value, name, context) => {
      const sources = list(value);
      const foreign = sources.filter((source) => !/^(?:local:\/\/|s3:\/\/)/.test(source));
      if (foreign.length > 0)
        context.warn(`${name}: Sluice only reads local:// and s3:// sources; URLs naming ${foreign.join(', ')} are refused (404 source not allowed)`);
      context.set(name, 'transform.allowedSources', sources);
    },
  },
  {
    names: ['IMGPROXY_LOCAL_FILESYSTEM_ROOT'],
    setting: `stores.${IMGPROXY_LOCAL_STORE} (type fs) + transform.localStore`,
    apply: (value, name, context) => {
      context.set(name, `stores.${IMGPROXY_LOCAL_STORE}.type`, 'fs');
      context.set(name, `stores.${IMGPROXY_LOCAL_STORE}.root`, value);
      context.set(name, 'transform.localStore', IMGPROXY_LOCAL_STORE);
    },
  },
  { names: ['IMGPROXY_AUTO_WEBP', 'IMGPROXY_ENABLE_WEBP_DETECTION'], setting: 'worker.autoWebp', apply: direct('worker.autoWebp', goBool) },
  { names: ['IMGPROXY_AUTO_AVIF', 'IMGPROXY_ENABLE_AVIF_DETECTION'], setting: 'worker.autoAvif', apply: direct('worker.autoAvif', goBool) },
  { names: ['IMGPROXY_ENFORCE_WEBP'], setting: 'worker.enforceWebp', apply: direct('worker.enforceWebp', goBool) },
  { names: ['IMGPROXY_ENFORCE_AVIF'], setting: 'worker.enforceAvif', apply: direct('worker.enforceAvif', goBool) },
  {
    names: ['IMGPROXY_PRESETS'],
    setting: 'transform.presets',
    apply: (value, name, context) => context.set(name, 'transform.presets', presets(value, context.env.IMGPROXY_PRESETS_SEPARATOR || ',')),
  },
  { names: ['IMGPROXY_PRESETS_SEPARATOR'], setting: '(how IMGPROXY_PRESETS is split)', apply: () => undefined },
  { names: ['IMGPROXY_ONLY_PRESETS'], setting: 'transform.onlyPresets', apply: direct('transform.onlyPresets', goBool) },
  {
    names: ['IMGPROXY_WATERMARK_DATA'],
    setting: 'worker.watermarkData',
    apply: (value, name, context) => context.set(name, 'worker.watermarkData', value.replace(/\s+/g, '')),
  },
  { names: ['IMGPROXY_WATERMARK_PATH'], setting: 'worker.watermark', apply: direct('worker.watermark', (v) => v) },
  {
    names: ['IMGPROXY_TTL'],
    setting: 'transform.ttl (Cache-Control: private, max-age; capped by expires:)',
    apply: direct('transform.ttl', (value) => {
      const ttl = goInt(value);
      if (ttl < 0) throw new Invalid('a number of seconds ≥ 0');
      return ttl;
    }),
  },
  {
    names: ['IMGPROXY_CACHE_CONTROL_PASSTHROUGH'],
    setting: '— (warning when true)',
    apply: (value, name, context) => {
      if (goBool(value))
        context.warn(
          `${name}: not supported: Sluice never copies the source's Cache-Control; results use transform.ttl (IMGPROXY_TTL) or the store's cacheControl`,
        );
    },
  },
  { names: ['IMGPROXY_MAX_SRC_RESOLUTION'], setting: 'worker.limits.maxInputPixels', apply: direct('worker.limits.maxInputPixels', megaInt) },
  {
    names: ['IMGPROXY_MAX_SRC_FILE_SIZE'],
    setting: "worker.maxSourceBytes (0 keeps Sluice's 32 MiB)",
    apply: (value, name, context) => {
      const bytes = goInt(value);
      if (bytes <= 0) context.warn(`${name}=0 (no limit) is not supported: Sluice keeps worker.maxSourceBytes (32 MiB by default)`);
      else context.set(name, 'worker.maxSourceBytes', bytes);
    },
  },
  { names: ['IMGPROXY_MAX_ANIMATION_FRAMES'], setting: 'worker.limits.maxFrames', apply: direct('worker.limits.maxFrames', goInt) },
  {
    names: ['IMGPROXY_MAX_RESULT_DIMENSION'],
    setting: "worker.limits.maxResultDimension (0 keeps Sluice's 8192)",
    apply: (value, name, context) => {
      const size = goInt(value);
      if (size > 0) context.set(name, 'worker.limits.maxResultDimension', size);
    },
  },
  {
    names: ['IMGPROXY_QUALITY'],
    setting: 'worker.defaultQuality.jpeg (and formats IMGPROXY_FORMAT_QUALITY leaves out)',
    apply: (value, name, context) => {
      const quality = goInt(value);
      if (quality < 1 || quality > 100) throw new Invalid('1–100');
      const perFormat = context.env.IMGPROXY_FORMAT_QUALITY === undefined ? { webp: 79, avif: 63 } : formatQuality(context.env.IMGPROXY_FORMAT_QUALITY);
      for (const format of ['jpeg', 'webp', 'avif'] as const) {
        if (perFormat[format] === undefined) context.set(name, `worker.defaultQuality.${format}`, quality);
      }
    },
  },
  {
    names: ['IMGPROXY_FORMAT_QUALITY'],
    setting: 'worker.defaultQuality.<format>',
    apply: (value, name, context) => {
      for (const [format, quality] of Object.entries(formatQuality(value))) context.set(name, `worker.defaultQuality.${format}`, quality);
    },
  },
  {
    names: ['IMGPROXY_AVIF_SPEED'],
    setting: 'worker.avifEffort (= 9 − speed)',
    apply: direct('worker.avifEffort', (value) => {
      const speed = goInt(value);
      if (speed < 0 || speed > 9) throw new Invalid('0–9');
      return 9 - speed;
    }),
  },
  { names: ['IMGPROXY_WORKERS', 'IMGPROXY_CONCURRENCY'], setting: 'worker.concurrency', apply: direct('worker.concurrency', goInt) },
  { names: ['IMGPROXY_REQUESTS_QUEUE_SIZE'], setting: 'worker.queueSize', apply: direct('worker.queueSize', goInt) },
  { names: ['IMGPROXY_TIMEOUT'], setting: 'worker.requestTimeoutMs (seconds × 1000)', apply: direct('worker.requestTimeoutMs', (v) => goInt(v) * 1000) },
  {
    names: ['IMGPROXY_DOWNLOAD_TIMEOUT'],
    setting: 'worker.downloadTimeoutMs (seconds × 1000)',
    apply: direct('worker.downloadTimeoutMs', (v) => goInt(v) * 1000),
  },
];

/**
 * Set, but ignoring them would make Sluice less safe than the imgproxy it replaces: refused at
 * start-up with the reason.
 */
export const IMGPROXY_REFUSED: Readonly<Record<string, string>> = {
  IMGPROXY_SECRET:
    'imgproxy then requires "Authorization: Bearer <secret>" on every request; Sluice has no such check: put the check in nginx or drop the variable',
  IMGPROXY_WATERMARK_URL: 'Sluice does not download watermarks: use IMGPROXY_WATERMARK_DATA or IMGPROXY_WATERMARK_PATH, or results would go out unmarked',
  IMGPROXY_SOURCE_URL_ENCRYPTION_KEY: 'encrypted source URLs (imgproxy Pro) are not supported',
  IMGPROXY_TRUSTED_SIGNATURES: 'trusted signatures (accepting listed signatures for any URL) are not supported: drop the variable',
};

/** Read by imgproxy, deliberately without a Sluice equivalent, and harmless to ignore (no warning). */
const IMGPROXY_IGNORED_QUIETLY = new Set([
  'IMGPROXY_USE_ETAG',
  'IMGPROXY_USE_LAST_MODIFIED',
  'IMGPROXY_BIND',
  'IMGPROXY_NETWORK',
  'IMGPROXY_LOG_FORMAT',
  'IMGPROXY_LOG_LEVEL',
]);

/** Maps the IMGPROXY_* variables of `env`; nothing when none is set. */
export function configFromImgproxyEnv(env: NodeJS.ProcessEnv): ImgproxyMapping {
  const explicit: Tree = {};
  const defaults: Tree = {};
  const origins = new Map<string, string>();
  const warnings: string[] = [];
  const errors: string[] = [];
  const present = Object.keys(env)
    .filter((name) => name.startsWith('IMGPROXY_') && env[name] !== undefined)
    .sort();
  if (present.length === 0) return { explicit, defaults, origins, warnings, errors };

  const context: Context = {
    env,
    set(variable, path, value) {
      const previous = origins.get(path);
      if (previous !== undefined && previous !== variable && JSON.stringify(getPath(explicit, path)) !== JSON.stringify(value)) {
        errors.push(`${variable} and ${previous} both set ${path} (to different values)`);
      }
      setPath(explicit, path, value);
      if (previous === undefined) origins.set(path, variable);
    },
    setDefault(path, value) {
      setPath(defaults, path, value);
    },
    warn(message) {
      warnings.push(message);
    },
  };
  // An imgproxy deployment is there for transforms; imgproxy negotiates no format unless told to.
  setPath(explicit, 'transform.enabled', true);
  origins.set('transform.enabled', present.join(', '));
  context.setDefault('worker.autoWebp', false);
  context.setDefault('worker.autoAvif', false);

  const known = new Set<string>();
  for (const mapping of IMGPROXY_VARIABLES) {
    for (const name of mapping.names) {
      known.add(name);
      const value = env[name];
      if (value === undefined) continue;
      try {
        mapping.apply(value, name, context);
      } catch (error) {
        if (!(error instanceof Invalid)) throw error;
        errors.push(`${name}: expected ${error.message}, got "${value}"`);
      }
    }
  }
  for (const name of present) {
    if (known.has(name) || IMGPROXY_IGNORED_QUIETLY.has(name)) continue;
    const refusal = IMGPROXY_REFUSED[name];
    if (refusal !== undefined) errors.push(`${name}: ${refusal}`);
    else warnings.push(`${name} is not supported by Sluice and is ignored (see docs/transforms.md "Switching from imgproxy")`);
  }
  return { explicit, defaults, origins, warnings, errors };
}

/**
 * Settings given both by IMGPROXY_* variables and by the config file / SLUICE_* variables
 * (`sluice`, already merged) with different values. The local store may also be one the
 * configuration already has, when its root is the same directory.
 */
export function imgproxyConflicts(mapping: ImgproxyMapping, sluice: Tree): string[] {
  const problems: string[] = [];
  const sluiceLocal = getPath(sluice, 'transform.localStore');
  const root = getPath(mapping.explicit, `stores.${IMGPROXY_LOCAL_STORE}.root`);
  const usesOwnStore = typeof sluiceLocal === 'string' && sluiceLocal !== IMGPROXY_LOCAL_STORE && root !== undefined;
  for (const [path, variable] of mapping.origins) {
    if (usesOwnStore && (path === 'transform.localStore' || path.startsWith(`stores.${IMGPROXY_LOCAL_STORE}.`))) continue;
    const theirs = getPath(sluice, path);
    if (theirs === undefined) continue;
    if (!sameValue(path, getPath(mapping.explicit, path), theirs)) {
      problems.push(
        `${path}: ${variable} sets ${JSON.stringify(getPath(mapping.explicit, path))}, the configuration (file or SLUICE_* variable) sets ${JSON.stringify(theirs)}: remove one`,
      );
    }
  }
  if (usesOwnStore) {
    const storeRoot = getPath(sluice, `stores.${sluiceLocal}.root`);
    if (storeRoot !== root)
      problems.push(
        `transform.localStore: IMGPROXY_LOCAL_FILESYSTEM_ROOT is ${JSON.stringify(root)}, but transform.localStore names store "${sluiceLocal}" with root ${JSON.stringify(storeRoot)}`,
      );
  }
  return problems;
}

/** Hex lists compare case-insensitively whether written as "a,b" or [a, b]; anything else as JSON. */
function sameValue(path: string, ours: unknown, theirs: unknown): boolean {
  if (path === 'transform.keys' || path === 'transform.salts') {
    const norm = (value: unknown): string[] =>
      (Array.isArray(value) ? value.map(String) : String(value).split(',')).map((v) => v.trim().toLowerCase()).filter((v) => v !== '');
    return JSON.stringify(norm(ours)) === JSON.stringify(norm(theirs));
  }
  return JSON.stringify(ours) === JSON.stringify(theirs);
}

export function getPath(tree: Tree, path: string): unknown {
  let node: unknown = tree;
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
    node = (node as Tree)[key];
  }
  return node;
}

function setPath(tree: Tree, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = tree;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Tree;
  }
  node[keys[keys.length - 1] as string] = value;
}

/**
 * An env file as docker / systemd / shells write them: `NAME=value`, optional `export `, `#`
 * comments, values optionally in single or double quotes (double quotes understand \n \" \\).
 */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [index, rawLine] of text.split(/\r?\n/).entries()) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (match === null) throw new Error(`line ${index + 1}: expected NAME=value`);
    const [, name, rest] = match as unknown as [string, string, string];
    out[name] = unquote(rest);
  }
  return out;
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) return value.slice(1, -1);
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    return value.slice(1, -1).replace(/\\([\\"nt$`])/g, (_m, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
  }
  return value.replace(/\s+#.*$/, '');
}
