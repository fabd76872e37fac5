// Loads plugin modules at start-up. A module that cannot be imported, exports no plugin, or has
// an invalid pattern stops Sluice with a ConfigError naming policy.plugins[i].
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import type { PluginConfig } from '../config/policy-schema.js';
import { ConfigError } from '../config/errors.js';
import { compileKeyPattern, type KeyPattern } from './key-pattern.js';
import type { SluicePlugin } from './plugin.js';

export interface LoadedPlugin {
  readonly plugin: SluicePlugin;
  readonly patterns: readonly KeyPattern[];
}

const pluginShape = z.object({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'name: lowercase letters, digits, "-" or "_"')
    .refine((name) => name !== 'webhook', 'name: "webhook" is reserved'),
  patterns: z.array(z.string().min(1)).min(1, 'patterns: at least one key pattern'),
  authorize: z.custom<SluicePlugin['authorize']>((value) => typeof value === 'function', 'authorize must be a function'),
});

/** Relative paths resolve against baseDir; anything else is a package name. */
export async function loadPlugins(configs: readonly PluginConfig[], baseDir: string): Promise<LoadedPlugin[]> {
  const loaded: LoadedPlugin[] = [];
  for (const [index, config] of configs.entries()) {
    const plugin = await loadOne(config, baseDir, `policy.plugins.${index}.module`);
    if (loaded.some((other) => other.plugin.name === plugin.name)) {
      throw ConfigError.forKey(`policy.plugins.${index}.module`, `a plugin named "${plugin.name}" is already loaded`);
    }
    const label = `policy.plugins[${index}] (${JSON.stringify(plugin.name)})`;
    loaded.push({ plugin, patterns: plugin.patterns.map((pattern, i) => compileKeyPattern(pattern, `${label}.patterns[${i}]`)) });
  }
  return loaded;
}

async function loadOne(config: PluginConfig, baseDir: string, key: string): Promise<SluicePlugin> {
  const specifier = /^(\.{1,2}\/|\/)/.test(config.module) ? pathToFileURL(path.resolve(baseDir, config.module)).href : config.module;
  let exported: unknown;
  try {
    const module = (await import(specifier)) as Record<string, unknown>;
    exported = module.default ?? module;
  } catch (error) {
    throw ConfigError.forKey(key, `cannot load plugin ${JSON.stringify(config.module)}: ${messageOf(error)}`);
  }
  if (typeof exported === 'function') {
    try {
      exported = await (exported as (options: Readonly<Record<string, unknown>>) => unknown)(config.options);
    } catch (error) {
      throw ConfigError.forKey(key, `plugin ${JSON.stringify(config.module)} failed to initialize: ${messageOf(error)}`);
    }
  }
  const shape = pluginShape.safeParse(exported);
  if (!shape.success) {
    const problems = shape.error.issues.map((issue) => issue.message).join('; ');
    throw ConfigError.forKey(key, `${JSON.stringify(config.module)} does not export a plugin {name, patterns, authorize}: ${problems}`);
  }
  // The module's own object, not zod's copy: authorize may rely on `this`.
  return exported as SluicePlugin;
}

function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n', 1)[0] as string;
}
