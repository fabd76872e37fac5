// `sluice encrypt-file <in> <out>` and `sluice decrypt-file <in> <out>`: local files in the
// encrypted-store format, with the same keyring. The output appears only when complete: a temp
// file beside it is renamed at the end, so a failed decryption never leaves partial plaintext.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Command, Option } from 'commander';
import type { EncryptionConfig } from '../config/encryption-schema.js';
import { loadEncryptionConfig } from '../config/load.js';
import { DamagedObjectError } from '../crypto/format.js';
import { openKeyring, type Keyring } from '../crypto/keyring.js';
import { decryptStream, encryptStream } from '../crypto/stream.js';
import { addKeyringOptions, keyringSource, type KeyringSourceOptions } from './keyring-source.js';

/** commander prints "(default: …)" itself: the description text stands in for the empty default. */
const nameOption = (): Option =>
  new Option('--name <key>', 'the store key the object lives under: it is bound into the ciphertext').default('', 'none, a loose file');

interface FileOptions extends KeyringSourceOptions {
  name: string;
}

export function cryptoFileCommands(loadEncryption: () => EncryptionConfig = () => loadEncryptionConfig()): Command[] {
  const unlock = async (options: KeyringSourceOptions): Promise<Keyring> => {
    const source = keyringSource(options, loadEncryption);
    return openKeyring(source.file, await source.password());
  };
  const encrypt = addKeyringOptions(
    new Command('encrypt-file')
      .description("encrypt a local file with the keyring's newest key (- = stdin/stdout)")
      .argument('<in>')
      .argument('<out>')
      .addOption(nameOption()),
  ).action(async (input: string, output: string, options: FileOptions) => {
    const keyring = await unlock(options);
    await transformFile(input, output, encryptStream(keyring.current, loadEncryption().chunkSize, options.name));
  });
  const decrypt = addKeyringOptions(
    new Command('decrypt-file')
      .description('decrypt a file written by encrypt-file or taken from an encrypted store (- = stdin/stdout)')
      .argument('<in>')
      .argument('<out>')
      .addOption(nameOption()),
  ).action(async (input: string, output: string, options: FileOptions) => {
    const keyring = await unlock(options);
    try {
      await transformFile(
        input,
        output,
        decryptStream((id) => keyring.get(id), options.name),
      );
    } catch (error) {
      if (error instanceof DamagedObjectError) throw new Error(`${input}: ciphertext is damaged or was tampered with (${error.message}); no output written`);
      throw error;
    }
  });
  return [encrypt, decrypt];
}

async function transformFile(input: string, output: string, transform: Transform): Promise<void> {
  const source: Readable = input === '-' ? process.stdin : createReadStream(input);
  if (output === '-') {
    await pipeline(source, transform, process.stdout as Writable);
    return;
  }
  const tmp = path.join(path.dirname(path.resolve(output)), `.${path.basename(output)}.${randomBytes(6).toString('hex')}.part`);
  try {
    await pipeline(source, transform, createWriteStream(tmp, { flags: 'wx', mode: 0o600 }));
    await fsp.rename(tmp, output);
  } finally {
    await fsp.rm(tmp, { force: true });
  }
}
