import { Command } from 'commander';
import type { SluiceConfig } from '../config/schema.js';
import { onShutdownSignal } from './signals.js';

/**
 * `sluice worker`: the image transform worker, on loopback, behind nginx. Run it with
 * MALLOC_ARENA_MAX=2 (glibc otherwise keeps per-thread arenas and RSS only grows).
 */
export function workerCommand(loadConfig: () => SluiceConfig): Command {
  return new Command('worker').description('run the image transform worker (nginx proxies to it; loopback only)').action(async () => {
    // Loaded here: only the worker process needs sharp/libvips in memory.
    const { startWorker } = await import('../worker/start.js');
    const config = loadConfig();
    const running = await startWorker(config);
    // Same grace as the app: transforms in flight finish, nginx gets no truncated image.
    onShutdownSignal(async () => {
      await running.close(config.ops.shutdownGraceMs);
    });
  });
}
