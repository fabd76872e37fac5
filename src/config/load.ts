import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { authSchema, configSchema, type AuthConfig, type SluiceConfig } from './schema.js';
import { configFromEnv, mergeConfig } from './env.js';
import { encryptionSchema, type EncryptionConfig } from './encryption-schema.js';
import { ConfigError, envNameFor } from './errors.js';
import { configFromImgproxyEnv, imgproxyConflicts } from './imgproxy-env.js';

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Config file path; defaults to SLUICE_CONFIG. JSON or YAML. */
  file?: string;
  /** Values layered under the file and the environment (used by the embedded default). */
  defaults?: Record<string, unknown>;
  /** Start-up warnings (unsupported IMGPROXY_* variables); default: a line on stderr each. */
  warn?: (message: string) => void;
}

interface RawSettings {
  readonly tree: Record<string, unknown>;
  /** Setting path → the IMGPROXY_* variable that set it (named in validation errors instead of SLUICE_*). */
  readonly origins: ReadonlyMap<string, string>;
}

/** Reads the file (if any) and SLUICE_* variables, validates, and returns typed settings. */
export function loadConfig(options: LoadOptions = {}): SluiceConfig {
  const { tree, origins } = rawSettings(options);
  return validateWith(configSchema, tree, [], origins);
}

/** Only the `auth` settings: what `sluice token` needs, without requiring stores. */
export function loadAuthConfig(options: LoadOptions = {}): AuthConfig {
  return validateWith(authSchema, rawSettings(options).tree.auth ?? {}, ['auth']);
}

/** Only the `encryption` settings: what the keyring commands need, without requiring stores. */
export function loadEncryptionConfig(options: LoadOptions = {}): EncryptionConfig {
  return validateWith(encryptionSchema, rawSettings(options).tree.encryption ?? {}, ['encryption']);
}

export function validateConfig(input: unknown): SluiceConfig {
  return validateWith(configSchema, input, []);
}

/**
 * Layers, lowest first: `defaults`, imgproxy's own defaults (when IMGPROXY_* variables are
 * set), the config file, the IMGPROXY_* variables, the SLUICE_* variables. An IMGPROXY_*
 * variable contradicting the file or a SLUICE_* variable is an error, so the order between
 * those only matters for imgproxy's defaults.
 */
function rawSettings(options: LoadOptions): RawSettings {
  const env = options.env ?? process.env;
  const file = options.file ?? env.SLUICE_CONFIG;
  const fromFile = file === undefined || file === '' ? {} : readConfigFile(file);
  const fromEnv = configFromEnv(env, configSchema);
  const imgproxy = configFromImgproxyEnv(env);
  const problems = [...imgproxy.errors, ...imgproxyConflicts(imgproxy, mergeConfig(fromFile, fromEnv))];
  if (problems.length > 0) throw new ConfigError(problems);
  const warn = options.warn ?? ((message: string) => process.stderr.write(`sluice: warning: ${message}\n`));
  for (const message of imgproxy.warnings) warn(message);
  const layers = [options.defaults ?? {}, imgproxy.defaults, fromFile, imgproxy.explicit, fromEnv];
  return { tree: layers.reduce((tree, layer) => mergeConfig(tree, layer), {}), origins: imgproxy.origins };
}

function validateWith<T>(schema: z.ZodType<T>, input: unknown, prefix: readonly string[], origins: ReadonlyMap<string, string> = new Map()): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const path = [...prefix, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
    const key = path.length > 0 ? path.join('.') : '(root)';
    return `${key} (${variableFor(path, origins)}): ${issue.message}`;
  });
  throw new ConfigError(problems);
}

/** The variable that set `path` (or its closest parent): an IMGPROXY_* one when it came from there. */
function variableFor(path: readonly (string | number)[], origins: ReadonlyMap<string, string>): string {
  for (let length = path.length; length > 0; length--) {
    const origin = origins.get(path.slice(0, length).join('.'));
    if (origin !== undefined) return origin;
  }
  return envNameFor(path);
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`SLUICE_CONFIG: cannot read config file ${file}: ${(error as Error).message}`]);
  }
  try {
    const parsed: unknown = parseYaml(text); // YAML is a superset of JSON
    if (parsed === null || parsed === undefined) return {};
    if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('the top level must be a mapping');
    return parsed as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError([`SLUICE_CONFIG: ${file} is not valid YAML/JSON: ${(error as Error).message}`]);
  }
}
