// `sluice imgproxy-env <file>`: an imgproxy env file → the equivalent Sluice settings (YAML), so
// an operator can see (or keep) what Sluice reads from the IMGPROXY_* variables.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { stringify } from 'yaml';
import { ConfigError } from '../config/errors.js';
import { mergeConfig } from '../config/env.js';
import { configFromImgproxyEnv, parseEnvFile } from '../config/imgproxy-env.js';

export function imgproxyEnvYaml(text: string): string {
  let env: Record<string, string>;
  try {
    env = parseEnvFile(text);
  } catch (error) {
    throw new ConfigError([`imgproxy env file: ${(error as Error).message}`]);
  }
  const mapping = configFromImgproxyEnv(env);
  if (mapping.errors.length > 0) throw new ConfigError([...mapping.errors]);
  const ignored = Object.keys(env).filter((name) => !name.startsWith('IMGPROXY_'));
  const header = [
    '# Sluice settings equivalent to the IMGPROXY_* variables (sluice imgproxy-env).',
    '# Sluice also needs worker.secret (app ↔ worker), which imgproxy has no equivalent for.',
    ...mapping.warnings.map((warning) => `# warning: ${warning}`),
    ...(ignored.length > 0 ? [`# not IMGPROXY_* variables, left out: ${ignored.join(', ')}`] : []),
  ];
  return `${header.join('\n')}\n${stringify(mergeConfig(mapping.defaults, mapping.explicit))}`;
}

export function imgproxyEnvCommand(): Command {
  return new Command('imgproxy-env')
    .description('print the Sluice YAML settings equivalent to an imgproxy env file')
    .argument('<file>', 'env file with IMGPROXY_* variables (NAME=value lines)')
    .action((file: string) => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        throw new ConfigError([`cannot read ${file}: ${(error as Error).message}`]);
      }
      process.stdout.write(imgproxyEnvYaml(text));
    });
}
