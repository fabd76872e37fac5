// What `sluice serve` and `sluice worker` share for --processes: the option, the primary's path
// (check, supervise, exit) and the per-process pieces (a logger carrying the pid, the shutdown
// hook that answers the primary as well as signals).
import cluster from 'node:cluster';
import { Option } from 'commander';
import type { SluiceConfig } from '../config/schema.js';
import { createBufferedLogger, createLogger, type Logger } from '../observability/logger.js';
import { isShutdownRequest, READY_NOTICE } from './messages.js';
import { assertPasswordReadableByEach } from './password-source.js';
import { parseProcesses, resolveProcesses, type ProcessCount } from './processes.js';
import { assertSharedState } from './shared-state.js';
import { onShutdownSignal } from './signals.js';
import { supervise, type ProcessRole } from './supervise.js';

export interface ProcessesFlag {
  readonly processes?: ProcessCount;
}

export function processesOption(role: ProcessRole): Option {
  const setting = role === 'app' ? 'ops.processes' : 'ops.workerProcesses';
  return new Option('--processes <n|auto>', `${role} processes sharing the port (auto = one per core; default: ${setting}, else 1)`).argParser(parseProcesses);
}

/**
 * With more than one process wanted, this process becomes the primary: it refuses configurations
 * that need Redis to be shared, forks and supervises the processes and exits when they are done
 * (never returns). Returns false in a single process and in every supervised process.
 */
export async function superviseIfRequested(role: ProcessRole, config: SluiceConfig, flags: ProcessesFlag): Promise<false> {
  if (cluster.isWorker) return false;
  const processes = resolveProcesses(flags.processes, role === 'app' ? config.ops.processes : config.ops.workerProcesses);
  if (processes <= 1) return false;
  if (role === 'app') assertSharedState(config, processes);
  else assertPasswordReadableByEach(config, processes);
  // `pid` in the primary's lines names the supervised process they are about; `primary` is its own.
  const logger = createLogger(config.logLevel).child({ primary: process.pid });
  const code = await supervise({ role, processes, logger, shutdownGraceMs: config.ops.shutdownGraceMs });
  await new Promise<void>((resolve) => logger.flush(() => resolve()));
  process.exit(code);
}

/** Options for startSluice/startWorker: in a supervised process, log lines carry its pid. */
export function processStartOptions(config: SluiceConfig): { logger?: Logger } {
  return cluster.isWorker ? { logger: createBufferedLogger(config.logLevel).child({ pid: process.pid }) } : {};
}

/**
 * Runs `stop` once, then exits (0, or 1 when stopping failed). A single process: on SIGINT/SIGTERM
 * (see onShutdownSignal). A supervised process: on the primary's request, or on a signal sent to it
 * (a Ctrl-C reaches the whole process group, systemd signals the whole cgroup); repeated requests
 * are ignored here — the primary kills the processes when it gets a second signal. Tells the
 * primary the process is ready once the hooks are in place.
 */
export function onShutdown(logger: Logger, stop: () => Promise<void>): void {
  if (!cluster.isWorker) {
    onShutdownSignal(stop);
    return;
  }
  let stopping = false;
  const begin = (reason: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'draining: no new connections, finishing requests in flight');
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: { message: (error as Error).message } }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('message', (message: unknown) => {
    if (isShutdownRequest(message)) begin('primary');
  });
  process.on('SIGTERM', () => begin('SIGTERM'));
  process.on('SIGINT', () => begin('SIGINT'));
  process.send?.(READY_NOTICE);
}
