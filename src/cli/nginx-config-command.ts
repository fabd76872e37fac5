import { Command } from 'commander';
import type { SluiceConfig } from '../config/schema.js';
import { appAddress } from '../nginx/app-address.js';
import { writeNginxConfig } from './nginx-files.js';

/** `sluice nginx-config`: render the includes (and optionally a full nginx.conf) from the config. */
export function nginxConfigCommand(loadConfig: () => SluiceConfig): Command {
  return new Command('nginx-config')
    .description('write sluice-http.conf and sluice-server.conf (and nginx.conf with --full) for this config')
    .requiredOption('--out <dir>', 'directory to write into')
    .option('--app <host:port>', 'where nginx reaches the Sluice app (default: appHost:appPort from the config)')
    .option('--full', 'also write a complete nginx.conf (development, tests)')
    .option('--runtime-dir <dir>', 'pid and temp files for the full config (default: <out>/run)')
    .option('--user <user>', 'worker user for the full config')
    .action(async (options: { out: string; app?: string; full?: boolean; runtimeDir?: string; user?: string }) => {
      const config = loadConfig();
      const written = await writeNginxConfig(config, {
        outDir: options.out,
        appAddress: options.app ?? appAddress(config.appHost, config.appPort),
        full: options.full ? { runtimeDir: options.runtimeDir ?? `${options.out}/run`, user: options.user } : undefined,
      });
      for (const file of [written.httpIncludePath, written.serverIncludePath, written.fullConfigPath]) {
        if (file !== undefined) process.stdout.write(`${file}\n`);
      }
    });
}
