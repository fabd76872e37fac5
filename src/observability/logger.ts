import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs. Authorization and Cookie headers never appear: we never log headers. */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino({ level, base: { service: 'sluice' } }, destination ?? process.stdout);
}
