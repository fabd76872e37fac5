import { pino, type Logger } from 'pino';
import { BufferedDestination, type BufferedDestinationOptions } from './log-destination.js';

export type { Logger };

/** Structured JSON logs. Authorization and Cookie headers never appear: we never log headers. */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino({ level, base: { service: 'sluice' } }, destination ?? process.stdout);
}

export interface BufferedLogOptions extends BufferedDestinationOptions {
  /** File descriptor to write to (default 1, stdout). */
  readonly fd?: number;
}

/**
 * The app's logger (one audit line per access decision): lines are collected in memory and
 * written asynchronously in batches (see BufferedDestination), not one blocking write(2) per
 * line. Bounded by maxLength; written every flushIntervalMs, by flushLogger() (RunningSluice.close()
 * calls it), and synchronously when the process exits.
 */
export function createBufferedLogger(level: string, options: BufferedLogOptions = {}): Logger {
  const destination = new BufferedDestination(options.fd ?? 1, options);
  let reported = false;
  destination.on('error', (error: Error) => {
    if (!reported) process.stderr.write(`sluice: cannot write the log: ${error.message}\n`);
    reported = true;
  });
  return pino({ level, base: { service: 'sluice' } }, destination);
}

/** Resolves once every line logged so far has been handed to the destination. */
export function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    try {
      logger.flush(() => resolve());
    } catch {
      resolve(); // destination already closed: nothing left to write
    }
  });
}
