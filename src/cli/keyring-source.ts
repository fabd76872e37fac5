// Where the keyring commands find the keyring and its master password: --keyring and
// --password-file, else `encryption.*` from the config (file or SLUICE_ENCRYPTION__* variables).
import { Option, type Command } from 'commander';
import type { EncryptionConfig } from '../config/encryption-schema.js';
import { readPassword } from '../crypto/password.js';

export interface KeyringSourceOptions {
  keyring?: string;
  passwordFile?: string;
  allowRegularPasswordFile?: boolean;
}

export interface KeyringSource {
  readonly file: string;
  password(): Promise<Buffer>;
}

export function addKeyringOptions(command: Command): Command {
  return command
    .addOption(new Option('--keyring <file>', 'keyring file (default: encryption.keyringFile)'))
    .addOption(new Option('--password-file <path>', 'master password source: /dev/fd/N or a named pipe (default: encryption.passwordFile)'))
    .addOption(new Option('--allow-regular-password-file', 'accept a regular file as the password source (tmpfs secrets only)'));
}

export function keyringSource(options: KeyringSourceOptions, loadEncryption: () => EncryptionConfig): KeyringSource {
  const settings = options.keyring !== undefined && options.passwordFile !== undefined ? undefined : loadEncryption();
  const file = options.keyring ?? settings?.keyringFile;
  const passwordFile = options.passwordFile ?? settings?.passwordFile;
  if (file === undefined) throw new Error('no keyring: pass --keyring or set encryption.keyringFile');
  if (passwordFile === undefined) throw new Error('no master password source: pass --password-file or set encryption.passwordFile');
  const allowRegularFile = options.allowRegularPasswordFile === true || settings?.allowRegularPasswordFile === true;
  return { file, password: () => readPassword(passwordFile, { allowRegularFile }) };
}
