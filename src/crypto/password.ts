// The master password: read once, at start-up, from a file descriptor (/dev/fd/3), a named pipe
// or a socket — never from a regular file unless the operator says it lives on tmpfs.
import { createReadStream, fstatSync, promises as fsp } from 'node:fs';
import { ConfigError } from '../config/errors.js';
import type { EncryptionConfig } from '../config/encryption-schema.js';
import { KeyringError, openKeyring, type Keyring } from './keyring.js';

const MAX_PASSWORD_BYTES = 4096;

export interface PasswordSourceOptions {
  /** Accept a regular file (container secrets on tmpfs). */
  readonly allowRegularFile: boolean;
}

export class PasswordSourceError extends Error {}

/** The password's bytes, without one trailing newline. */
export async function readPassword(source: string, options: PasswordSourceOptions): Promise<Buffer> {
  // An inherited descriptor is read as it is: opening /dev/fd/N fails for sockets (ENXIO).
  const fd = /^\/(?:dev|proc\/self)\/fd\/(\d+)$/.exec(source)?.[1];
  let stats: import('node:fs').Stats;
  try {
    stats = fd === undefined ? await fsp.stat(source) : fstatSync(Number(fd));
  } catch (error) {
    throw new PasswordSourceError(`cannot open ${source}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (stats.isFile() && !options.allowRegularFile) {
    throw new PasswordSourceError(
      `${source} is a regular file: a master password must not rest on disk in clear (use a file descriptor such as /dev/fd/3 or a named pipe; allowRegularPasswordFile is for secrets on tmpfs)`,
    );
  }
  if (stats.isDirectory()) throw new PasswordSourceError(`${source} is a directory`);
  const chunks: Buffer[] = [];
  let total = 0;
  const stream = fd === undefined ? createReadStream(source, { highWaterMark: 1024 }) : createReadStream('', { fd: Number(fd), highWaterMark: 1024 });
  for await (const chunk of stream) {
    total += (chunk as Buffer).length;
    if (total > MAX_PASSWORD_BYTES) throw new PasswordSourceError(`${source} holds more than ${MAX_PASSWORD_BYTES} bytes: not a password`);
    chunks.push(chunk as Buffer);
  }
  let password = Buffer.concat(chunks);
  if (password.at(-1) === 0x0a) password = password.subarray(0, password.at(-2) === 0x0d ? -2 : -1);
  if (password.length === 0) throw new PasswordSourceError(`${source} gave an empty password`);
  return password;
}

/** Start-up: unlock the configured keyring, or fail with a message naming the setting. */
export async function loadKeyring(encryption: EncryptionConfig): Promise<Keyring> {
  const { keyringFile, passwordFile } = encryption;
  if (keyringFile === undefined) throw ConfigError.forKey('encryption.keyringFile', 'required when a store is encrypted (create one with `sluice keys init`)');
  if (passwordFile === undefined) throw ConfigError.forKey('encryption.passwordFile', 'required when a store is encrypted (e.g. /dev/fd/3)');
  try {
    await fsp.access(keyringFile);
  } catch {
    throw ConfigError.forKey('encryption.keyringFile', `${keyringFile} does not exist or is unreadable (create it with \`sluice keys init\`)`);
  }
  let password: Buffer;
  try {
    password = await readPassword(passwordFile, { allowRegularFile: encryption.allowRegularPasswordFile });
  } catch (error) {
    throw ConfigError.forKey('encryption.passwordFile', (error as Error).message);
  }
  try {
    return await openKeyring(keyringFile, password);
  } catch (error) {
    if (error instanceof KeyringError) throw ConfigError.forKey('encryption.passwordFile', `${error.message} (encryption.keyringFile: ${keyringFile})`);
    throw error;
  } finally {
    password.fill(0);
  }
}
