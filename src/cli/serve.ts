import { Command } from 'commander';
import type { SluiceConfig } from '../config/schema.js';
import { startSluice } from '../server.js';
import { onShutdown, processesOption, processStartOptions, superviseIfRequested, type ProcessesFlag } from '../cluster/command.js';

/** `sluice serve`: the app alone, behind an nginx you run (see `sluice nginx-config`). */
export function serveCommand(loadConfig: () => SluiceConfig): Command {
  return new Command('serve')
    .description('run the Sluice app (behind your nginx)')
    .addOption(processesOption('app'))
    .action(async (flags: ProcessesFlag) => {
      const config = loadConfig();
      // --processes N > 1: this process supervises N copies of this command (src/cluster) and ends there.
      await superviseIfRequested('app', config, flags);
      const running = await startSluice(config, processStartOptions(config));
      onShutdown(running.logger, async () => {
        // Stop accepting, let in-flight decisions finish (bounded), then exit 0.
        await running.close(config.ops.shutdownGraceMs);
        running.logger.info('sluice app stopped');
      });
    });
}
