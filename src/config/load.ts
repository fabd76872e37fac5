import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { authSchema, configSchema, type AuthConfig, type SluiceConfig } from './schema.js';
import { configFromEnv, mergeConfig } from './env.js';
import { encryptionSchema, type EncryptionConfig } from './encryption-schema.js';
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
  return validateConfig(rawSettings(options));
}

/** Only the `auth` settings: what `sluice token` needs, without requiring stores. */
export function loadAuthConfig(options: LoadOptions = {}): AuthConfig {
  return validateWith(authSchema, rawSettings(options).auth ?? {}, ['auth']);
}

/** Only the `encryption` settings: what the keyring commands need, without requiring stores. */
export function loadEncryptionConfig(options: LoadOptions = {}): EncryptionConfig {
  return validateWith(encryptionSchema, rawSettings(options).encryption ?? {}, ['encryption']);
}

export function validateConfig(input: unknown): SluiceConfig {
  return validateWith(configSchema, input, []);
}

function rawSettings(options: LoadOptions): Record<string, unknown> {
  const env = options.env ?? process.env;
  const file = options.file ?? env.SLUICE_CONFIG;
  const fromFile = file === undefined || file === '' ? {} : readConfigFile(file);
  return mergeConfig(mergeConfig(options.defaults ?? {}, fromFile), configFromEnv(env));
}

function validateWith<T>(schema: z.ZodType<T>, input: unknown, prefix: readonly string[]): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const path = [...prefix, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
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
