import { Command } from 'commander';
import type { SluiceConfig } from '../config/schema.js';
import { onShutdown, processesOption, processStartOptions, superviseIfRequested, type ProcessesFlag } from '../cluster/command.js';
import { createLogger } from '../observability/logger.js';

/**
 * `sluice worker`: the image transform worker, behind nginx (on loopback by default). Run it with
 * MALLOC_ARENA_MAX=2 (glibc otherwise keeps per-thread arenas and RSS only grows).
 */
export function workerCommand(loadConfig: () => SluiceConfig): Command {
  return new Command('worker')
    .description('run the image transform worker (nginx proxies to it; worker.host:worker.port)')
    .addOption(processesOption('worker'))
    .action(async (flags: ProcessesFlag) => {
      const config = loadConfig();
      // --processes N > 1: this process supervises N copies of this command (src/cluster) and ends there.
      await superviseIfRequested('worker', config, flags);
      // Loaded here: only the worker processes need sharp/libvips in memory (not a primary).
      const { startWorker } = await import('../worker/start.js');
      const logger = processStartOptions(config).logger ?? createLogger(config.logLevel);
      const running = await startWorker(config, { logger });
      // Same grace as the app: transforms in flight finish, nginx gets no truncated image.
      onShutdown(logger, async () => {
        await running.close(config.ops.shutdownGraceMs);
      });
    });
}
