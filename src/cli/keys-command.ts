// `sluice keys`: signing keys for share links and transform URLs (list, rotate) and the data keys
// of encrypted stores in the keyring (init, add, list --data, rewrap).
import { Command, Option } from 'commander';
import type { EncryptionConfig } from '../config/encryption-schema.js';
import { loadEncryptionConfig } from '../config/load.js';
import type { SluiceConfig } from '../config/schema.js';
import { addKey, createKeyring, keyFingerprint, openKeyring, rewrapKeyring } from '../crypto/keyring.js';
import { readPassword } from '../crypto/password.js';
import { listKeys, rotate, rotationYaml, writeRotation, type KeyKind } from '../ops/keys.js';
import { addKeyringOptions, keyringSource, type KeyringSourceOptions } from './keyring-source.js';

export function keysCommand(
  loadConfig: () => SluiceConfig,
  write: (text: string) => void = (t) => process.stdout.write(t),
  loadEncryption: () => EncryptionConfig = () => loadEncryptionConfig(),
): Command {
  const command = new Command('keys').description('signing keys (share links, transform URLs) and data keys of encrypted stores');
  addKeyringOptions(
    command
      .command('list')
      .description("signing keys: kind, kid, fingerprint, which one signs; with --data: the keyring's data keys (never the secrets)")
      .option('--data', 'list the data keys of the keyring instead'),
  ).action(async (options: KeyringSourceOptions & { data?: boolean }) => {
    if (options.data === true || options.keyring !== undefined) {
      const source = keyringSource(options, loadEncryption);
      const keyring = await openKeyring(source.file, await source.password());
      for (const key of keyring.keys) write(`data\t${key.id}\t${keyFingerprint(key)}\t${key.createdAt}${key === keyring.current ? '\twrites' : ''}\n`);
      return;
    }
    for (const key of listKeys(loadConfig())) {
      write(`${key.kind}\t${key.id}\t${key.fingerprint}${key.signs ? '\tsigns' : ''}\n`);
    }
  });
  command
    .command('rotate')
    .description('make a new key that signs from now on; the old ones keep verifying until you remove them')
    .addOption(new Option('--kind <kind>', 'which keys').choices(['share', 'transform']).makeOptionMandatory())
    .option('--kid <kid>', 'kid of the new share key (default: k<timestamp>)')
    .option('--write <file>', 'also update this YAML config file in place (comments are kept)')
    .action(async (options: { kind: KeyKind; kid?: string; write?: string }) => {
      const rotation = rotate(loadConfig(), options.kind, options.kid, new Date());
      write(`# new ${options.kind} key first; deploy, wait out the longest link/URL lifetime, then drop the old ones\n`);
      write(rotationYaml(rotation));
      if (options.write !== undefined) {
        await writeRotation(options.write, rotation);
        write(`# updated ${options.write}\n`);
      }
    });
  addKeyringOptions(
    command.command('init').description('create the keyring of encrypted stores with its first data key').option('--id <id>', 'id of the first key', 'k1'),
  ).action(async (options: KeyringSourceOptions & { id: string }) => {
    const source = keyringSource(options, loadEncryption);
    const keyring = await createKeyring(source.file, await source.password(), { id: options.id });
    write(`created ${source.file} with data key ${keyring.current.id} (${keyFingerprint(keyring.current)})\n`);
  });
  addKeyringOptions(
    command
      .command('add')
      .description('add a data key; new objects use it once the workers restart')
      .option('--id <id>', 'id of the new key (default: k<n+1>)'),
  ).action(async (options: KeyringSourceOptions & { id?: string }) => {
    const source = keyringSource(options, loadEncryption);
    const key = await addKey(source.file, await source.password(), { ...(options.id !== undefined && { id: options.id }) });
    write(`added data key ${key.id} (${keyFingerprint(key)}); restart the workers, then run \`sluice reencrypt\` for each encrypted store\n`);
  });
  addKeyringOptions(
    command
      .command('rewrap')
      .description('seal the keyring under a new master password (the data keys do not change)')
      .requiredOption('--new-password-file <path>', 'source of the new master password (/dev/fd/N or a named pipe)'),
  ).action(async (options: KeyringSourceOptions & { newPasswordFile: string }) => {
    const source = keyringSource(options, loadEncryption);
    const oldPassword = await source.password();
    const newPassword = await readPassword(options.newPasswordFile, { allowRegularFile: options.allowRegularPasswordFile === true });
    await rewrapKeyring(source.file, oldPassword, newPassword);
    write(`rewrapped ${source.file}: the old master password no longer opens it\n`);
  });
  return command;
}
