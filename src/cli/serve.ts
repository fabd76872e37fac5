import { Command } from 'commander';
import type { SluiceConfig } from '../config/schema.js';
import { startSluice } from '../server.js';
import { onShutdownSignal } from './signals.js';

/** `sluice serve`: the app alone, behind an nginx you run (see `sluice nginx-config`). */
export function serveCommand(loadConfig: () => SluiceConfig): Command {
  return new Command('serve').description('run the Sluice app (behind your nginx)').action(async () => {
    const config = loadConfig();
    const running = await startSluice(config);
    onShutdownSignal(async () => {
      // Stop accepting, let in-flight decisions finish (bounded), then exit 0.
      await running.close(config.ops.shutdownGraceMs);
      running.logger.info('sluice app stopped');
    });
  });
}
