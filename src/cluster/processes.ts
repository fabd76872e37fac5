// How many processes `sluice serve` / `sluice worker` run: the --processes flag, else the config
// setting (ops.processes / ops.workerProcesses), else one. "auto" = one per usable core.
import os from 'node:os';
import { InvalidArgumentError } from 'commander';

export type ProcessCount = number | 'auto';

/** Most processes one command may start (a typo such as 1000 should not fork-bomb the host). */
export const MAX_PROCESSES = 256;

/** Parses the --processes flag: a positive integer or "auto" (commander reports the error). */
export function parseProcesses(value: string): ProcessCount {
  const trimmed = value.trim();
  if (trimmed === 'auto') return 'auto';
  if (/^\d+$/.test(trimmed)) {
    const n = Number(trimmed);
    if (n >= 1 && n <= MAX_PROCESSES) return n;
  }
  throw new InvalidArgumentError(`expected a number from 1 to ${MAX_PROCESSES} or "auto"`);
}

/** The flag wins over the setting; "auto" becomes os.availableParallelism(). */
export function resolveProcesses(flag: ProcessCount | undefined, configured: ProcessCount | undefined, cores: () => number = os.availableParallelism): number {
  const wanted = flag ?? configured ?? 1;
  return wanted === 'auto' ? Math.max(1, Math.min(MAX_PROCESSES, cores())) : wanted;
}
