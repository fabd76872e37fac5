// The worker's master password (encrypted stores) is read once at start-up from a descriptor or a
// pipe (src/crypto/password.ts). Several worker processes cannot each read it: a pipe yields it to
// the first reader only, and in a process forked by node:cluster descriptor 3 is the IPC channel.
// Only a regular file (a secret on tmpfs, allowRegularPasswordFile) can be read by every process.
import { statSync } from 'node:fs';
import { ConfigError, envNameFor } from '../config/errors.js';
import type { SluiceConfig } from '../config/schema.js';

export function assertPasswordReadableByEach(config: SluiceConfig, processes: number): void {
  if (processes <= 1 || !Object.values(config.stores).some((store) => store.encrypted)) return;
  const source = config.encryption.passwordFile;
  if (source === undefined) return; // the worker itself names the missing setting
  if (!readableAgain(source)) {
    throw ConfigError.forKey(
      'encryption.passwordFile',
      `${source} can be read once, but ${processes} worker processes each need the master password: run one worker process per password source, or use a file on tmpfs with encryption.allowRegularPasswordFile (${envNameFor(['encryption', 'allowRegularPasswordFile'])})`,
    );
  }
}

/** A regular file (when allowed) can be read by every process; descriptors, pipes and sockets cannot. */
function readableAgain(source: string): boolean {
  if (/^\/(?:dev|proc\/self)\/fd\/\d+$/.test(source) || source === '/dev/stdin') return false;
  try {
    return statSync(source).isFile();
  } catch {
    return true; // missing: each process reports it with the usual message
  }
}
