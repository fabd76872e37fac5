// `sluice reencrypt --store <name>`: move an encrypted store's objects to the keyring's newest key.
import { appendFile } from 'node:fs/promises';
import { Command } from 'commander';
import type { SluiceConfig } from '../config/schema.js';
import { openKeyring } from '../crypto/keyring.js';
import { reencryptStore } from '../crypto/reencrypt.js';
import { reencryptTarget } from '../crypto/reencrypt-targets.js';
import { addKeyringOptions, keyringSource, type KeyringSourceOptions } from './keyring-source.js';

const PROGRESS_INTERVAL_MS = 5_000;

interface ReencryptCommandOptions extends KeyringSourceOptions {
  store: string;
  concurrency: string;
  manifest?: string;
  dryRun?: boolean;
}

export function reencryptCommand(loadConfig: () => SluiceConfig, write: (text: string) => void = (t) => process.stdout.write(t)): Command {
  return addKeyringOptions(
    new Command('reencrypt')
      .description("move every object of an encrypted store to the keyring's newest key (re-runs skip objects already moved)")
      .requiredOption('--store <name>', 'encrypted store')
      .option('--concurrency <n>', 'objects at once', '4')
      .option('--manifest <file>', 'append one JSON line per moved object')
      .option('--dry-run', 'only count what would move'),
  ).action(async (options: ReencryptCommandOptions) => {
    const config = loadConfig();
    const concurrency = Number(options.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new Error('--concurrency must be an integer from 1 to 64');
    const source = keyringSource(options, () => config.encryption);
    const keyring = await openKeyring(source.file, await source.password());
    const target = await reencryptTarget(config, options.store);
    let lastLine = 0;
    const report = await reencryptStore(target, keyring, {
      concurrency,
      dryRun: options.dryRun === true,
      ...(options.manifest !== undefined && { onMoved: (moved) => appendFile(options.manifest as string, `${JSON.stringify(moved)}\n`) }),
      onProgress: ({ done, total }) => {
        if (Date.now() - lastLine < PROGRESS_INTERVAL_MS && done !== total) return;
        lastLine = Date.now();
        write(`reencrypt ${options.store}: ${done}/${total} objects checked\n`);
      },
    });
    for (const failure of report.failed) write(`failed\t${failure.key}\t${failure.reason}\n`);
    const verb = report.dryRun ? 'would move' : 'moved';
    write(
      `reencrypt ${options.store}: ${verb} ${report.moved} to ${keyring.current.id}, already current ${report.alreadyCurrent}, failed ${report.failed.length}\n`,
    );
    if (report.failed.length > 0) process.exitCode = 1;
  });
}
