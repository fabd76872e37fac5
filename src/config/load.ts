import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { configSchema, type SluiceConfig } from './schema.js';
import { configFromEnv, mergeConfig } from './env.js';
import { ConfigError, envNameFor } from './errors.js';

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Config file path; defaults to SLUICE_CONFIG. JSON or YAML. */
  file?: string;
  /** Values layered under the file and the environment (used by the embedded default). */
  defaults?: Record<string, unknown>;
}

/** Reads the file (if any) and SLUICE_* variables, validates, and returns typed settings. */
export function loadConfig(options: LoadOptions = {}): SluiceConfig {
  const env = options.env ?? process.env;
  const file = options.file ?? env.SLUICE_CONFIG;
  const fromFile = file === undefined || file === '' ? {} : readConfigFile(file);
  const merged = mergeConfig(mergeConfig(options.defaults ?? {}, fromFile), configFromEnv(env));
  return validateConfig(merged);
}

export function validateConfig(input: unknown): SluiceConfig {
  const result = configSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
    const key = path.length > 0 ? path.join('.') : '(root)';
    return `${key} (${envNameFor(path)}): ${issue.message}`;
  });
  throw new ConfigError(problems);
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
