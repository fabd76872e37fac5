// Maps SLUICE_* environment variables onto the config tree (12-factor).
//   SLUICE_PORT=8081                      → port
//   SLUICE_AUTH__COOKIE_NAME=session      → auth.cookieName   ("__" nests, "_" joins camelCase words)
//   SLUICE_STORES__DOCS__ROOT=/srv/docs   → stores.docs.root  (store names are kept lower-case as written)
//   SLUICE_RULES='[...]'                  → rules             (values starting with [ or { are JSON)
//   SLUICE_JWT_SECRET=...                 → auth.keys = [{ algorithms: [HS256], secret }]  (shortcut)
// SLUICE_CONFIG names the optional config file and is not itself a setting.

type Tree = Record<string, unknown>;

const NOT_SETTINGS = new Set(['SLUICE_CONFIG']);

export function configFromEnv(env: NodeJS.ProcessEnv): Tree {
  const tree: Tree = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('SLUICE_') || raw === undefined || NOT_SETTINGS.has(name)) continue;
    if (name === 'SLUICE_JWT_SECRET') {
      setPath(tree, ['auth', 'keys'], [{ algorithms: ['HS256'], secret: raw }]);
      continue;
    }
    const path = name
      .slice('SLUICE_'.length)
      .split('__')
      .map((segment, index, all) => (index > 0 && all[index - 1] === 'STORES' ? segment.toLowerCase() : camelCase(segment)));
    setPath(tree, path, parseValue(raw));
  }
  return tree;
}

function camelCase(segment: string): string {
  return segment.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** Numbers and booleans become typed values; JSON objects/arrays are parsed; anything else stays a string. */
function parseValue(raw: string): unknown {
  const trimmed = raw.trim();
  if (/^-?\d+$/.test(trimmed)) return Number(trimmed);
  if (trimmed === 'true' || trimmed === 'false') return trimmed === 'true';
  if (trimmed.startsWith('[') || trimmed.startsWith('{') || trimmed.startsWith('"')) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return raw; // validation will report the key with a type error
    }
  }
  return raw;
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
      typeof value === 'object' && value !== null && !Array.isArray(value) &&
      typeof current === 'object' && current !== null && !Array.isArray(current);
    out[key] = bothObjects ? mergeConfig(current as Tree, value as Tree) : value;
  }
  return out;
}
