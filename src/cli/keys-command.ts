// `sluice keys list|rotate`: signing keys for share links and transform URLs.
import { Command, Option } from 'commander';
import type { SluiceConfig } from '../config/schema.js';
import { listKeys, rotate, rotationYaml, writeRotation, type KeyKind } from '../ops/keys.js';

export function keysCommand(loadConfig: () => SluiceConfig, write: (text: string) => void = (t) => process.stdout.write(t)): Command {
  const command = new Command('keys').description('list and rotate signing keys (share links, transform URLs)');
  command
    .command('list')
    .description('active keys: kind, kid, fingerprint, and which one signs (never the secrets)')
    .action(() => {
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
  return command;
}
