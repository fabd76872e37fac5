// The primary of `sluice serve|worker --processes N`: forks N copies of the same command with
// node:cluster (they share one listening port; on Linux the primary hands out connections
// round-robin), replaces a process that dies, and on SIGTERM/SIGINT asks every process to drain
// (each one runs its own graceful close) and waits for all of them. The primary serves nothing.
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../observability/logger.js';
import { isReadyNotice, SHUTDOWN_REQUEST } from './messages.js';

export type ProcessRole = 'app' | 'worker';

export interface CrashLimit {
  /** This many unexpected exits within `windowMs`: stop replacing and give up (exit 1). */
  readonly max: number;
  readonly windowMs: number;
}

export const DEFAULT_CRASH_LIMIT: CrashLimit = { max: 5, windowMs: 60_000 };

export interface SuperviseOptions {
  readonly role: ProcessRole;
  readonly processes: number;
  readonly logger: Logger;
  /** Each process drains for up to this long; the primary waits that plus a margin, then kills. */
  readonly shutdownGraceMs: number;
  readonly crashLimit?: CrashLimit;
}

/** Time a process gets beyond the grace period to close connections and exit. */
const STOP_MARGIN_MS = 5_000;
/** Longest wait before a crashed process is replaced. */
const MAX_REPLACE_DELAY_MS = 5_000;

export interface CrashVerdict {
  /** Unexpected exits within the window, this one included. */
  readonly recent: number;
  /** False once the limit is reached: a crash loop is not worth spinning. */
  readonly replace: boolean;
  /** Back-off before the replacement: 0 for a lone crash, then 200 ms, 400 ms, … up to 5 s. */
  readonly delayMs: number;
}

/** Counts unexpected exits in a sliding window and decides whether (and when) to replace. */
export function crashPolicy(limit: CrashLimit, now: () => number = Date.now): { record(): CrashVerdict } {
  const crashes: number[] = [];
  return {
    record() {
      const t = now();
      crashes.push(t);
      while (crashes.length > 0 && (crashes[0] as number) <= t - limit.windowMs) crashes.shift();
      const recent = crashes.length;
      return { recent, replace: recent < limit.max, delayMs: recent <= 1 ? 0 : Math.min(MAX_REPLACE_DELAY_MS, 100 * 2 ** (recent - 1)) };
    },
  };
}

interface Child {
  readonly worker: Worker;
  readonly pid: number;
  ready: boolean;
}

/**
 * Runs until every process has stopped; resolves with the exit code for the primary: 0 after a
 * clean drain, 1 after a start-up failure, a crash loop or a process that did not stop cleanly,
 * 130 after a second signal (processes killed at once, as a single process does).
 */
export function supervise(options: SuperviseOptions): Promise<number> {
  const { role, logger, processes } = options;
  const crashes = crashPolicy(options.crashLimit ?? DEFAULT_CRASH_LIMIT);
  const children = new Map<number, Child>();
  const pendingReplacements = new Set<NodeJS.Timeout>();
  let phase: 'starting' | 'running' | 'stopping' = 'starting';
  let exitCode = 0;
  let killTimer: NodeJS.Timeout | undefined;
  let settle: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => {
    settle = resolve;
  });

  const finishIfEmpty = (): void => {
    if (phase !== 'stopping' || children.size > 0 || pendingReplacements.size > 0) return;
    clearTimeout(killTimer);
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('SIGINT', onSignal);
    logger.info({ role, exitCode }, exitCode === 0 ? 'all processes drained' : 'all processes stopped');
    settle(exitCode);
  };

  const fork = (replaces?: number): void => {
    const worker = cluster.fork();
    const pid = worker.process.pid as number;
    const child: Child = { worker, pid, ready: false };
    children.set(worker.id, child);
    logger.info({ role, pid, ...(replaces === undefined ? {} : { replaces }) }, replaces === undefined ? 'process started' : 'process replaced');
    worker.on('error', (error: Error) => logger.warn({ role, pid, err: { message: error.message } }, 'process channel error'));
    worker.on('message', (message: unknown) => {
      if (!isReadyNotice(message)) return;
      child.ready = true;
      logger.info({ role, pid }, 'process ready');
      if (phase === 'stopping') {
        requestStop(child); // became ready after the shutdown began
      } else if (phase === 'starting' && [...children.values()].every((c) => c.ready) && children.size === processes) {
        phase = 'running';
        logger.info({ role, processes, pids: [...children.values()].map((c) => c.pid) }, 'all processes ready');
      }
    });
    worker.once('exit', (code: number | null, signal: NodeJS.Signals | null) => onExit(child, code, signal));
  };

  const onExit = (child: Child, code: number | null, signal: NodeJS.Signals | null): void => {
    children.delete(child.worker.id);
    if (phase === 'stopping') {
      const clean = code === 0 || (!child.ready && signal === 'SIGTERM');
      if (!clean) exitCode = Math.max(exitCode, 1);
      (clean ? logger.info : logger.warn).call(logger, { role, pid: child.pid, code, signal }, 'process stopped');
      finishIfEmpty();
      return;
    }
    if (phase === 'starting' && !child.ready) {
      // Start-up failures (a plugin that does not load, a taken port) repeat in every copy.
      logger.error({ role, pid: child.pid, code, signal }, 'process exited before it was ready: stopping (its error is above)');
      stopAll(1);
      return;
    }
    logger.warn({ role, pid: child.pid, code, signal }, 'process died');
    const verdict = crashes.record();
    if (!verdict.replace) {
      const windowSeconds = Math.round((options.crashLimit ?? DEFAULT_CRASH_LIMIT).windowMs / 1000);
      logger.fatal(
        { role, crashes: verdict.recent, windowSeconds },
        `${role} processes died ${verdict.recent} times within ${windowSeconds} s: not replacing them any more, stopping`,
      );
      stopAll(1);
      return;
    }
    const timer = setTimeout(() => {
      pendingReplacements.delete(timer);
      if (phase !== 'stopping') fork(child.pid);
      else finishIfEmpty();
    }, verdict.delayMs);
    pendingReplacements.add(timer);
  };

  const requestStop = (child: Child): void => {
    if (!child.ready) {
      // Still starting: nothing in flight, no shutdown handler yet; SIGTERM ends it.
      child.worker.process.kill('SIGTERM');
      return;
    }
    if (!child.worker.isConnected()) return; // already on its way out
    child.worker.send(SHUTDOWN_REQUEST, (error: Error | null) => {
      if (error !== null) logger.warn({ role, pid: child.pid, err: { message: error.message } }, 'could not ask the process to drain');
    });
  };

  const stopAll = (code: number): void => {
    exitCode = Math.max(exitCode, code);
    if (phase === 'stopping') return;
    phase = 'stopping';
    for (const timer of pendingReplacements) clearTimeout(timer);
    pendingReplacements.clear();
    for (const child of children.values()) requestStop(child);
    killTimer = setTimeout(() => {
      logger.error(
        { role, pids: [...children.values()].map((c) => c.pid), waitedMs: options.shutdownGraceMs + STOP_MARGIN_MS },
        'processes did not stop in time: killing them',
      );
      exitCode = Math.max(exitCode, 1);
      for (const child of children.values()) child.worker.process.kill('SIGKILL');
    }, options.shutdownGraceMs + STOP_MARGIN_MS);
    killTimer.unref();
    finishIfEmpty();
  };

  let signalled = false;
  function onSignal(signal: NodeJS.Signals): void {
    if (signalled) {
      // A second signal: as with one process, stop now.
      logger.warn({ role, signal }, 'second signal: killing every process');
      for (const child of children.values()) child.worker.process.kill('SIGKILL');
      settle(130);
      return;
    }
    signalled = true;
    logger.info({ role, signal, pids: [...children.values()].map((c) => c.pid) }, 'shutdown requested: draining every process');
    stopAll(0);
  }
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  logger.info({ role, processes }, `starting ${processes} ${role} processes sharing one port`);
  for (let i = 0; i < processes; i += 1) fork();
  return done;
}
