// `sluice results prune --older-than 30d [--dry-run]`: the shared result store's clean-up
// (transform.resultStore). Results are derivatives: deleting one only means a render later.
import { Command, InvalidArgumentError } from 'commander';
import type { SluiceConfig } from '../config/schema.js';
import { opsS3Client } from '../ops/s3-client.js';
import { parseAge, pruneFsResults, pruneS3Results, type PruneOptions } from '../worker/transform/result-prune.js';

export function resultsCommand(
  loadConfig: () => SluiceConfig,
  write: (text: string) => void = (t) => process.stdout.write(t),
  now: () => Date = () => new Date(),
): Command {
  const command = new Command('results').description('the shared result store of image transforms (transform.resultStore)');
  command
    .command('prune')
    .description('delete stored results last written longer ago than --older-than')
    .requiredOption('--older-than <age>', 'age such as 30d, 12h, 90m', parseAgeOption)
    .option('--dry-run', 'list what would be deleted, delete nothing', false)
    .action(async (options: { olderThan: number; dryRun: boolean }) => {
      const config = loadConfig();
      const settings = config.transform.resultStore;
      if (settings === undefined) throw new Error('transform.resultStore is not set');
      const store = config.stores[settings.store];
      if (store === undefined) throw new Error(`no store named "${settings.store}"`);
      const verb = options.dryRun ? 'would delete' : 'deleted';
      const prune: PruneOptions = {
        olderThan: new Date(now().getTime() - options.olderThan),
        dryRun: options.dryRun,
        onResult: (r) => write(`${verb}\t${r.name}\t${r.lastModified.toISOString()}\n`),
      };
      let count: number;
      if (store.type === 'fs') count = await pruneFsResults(store, settings, prune);
      else {
        const client = opsS3Client(store);
        try {
          count = await pruneS3Results(client, store, settings, prune);
        } finally {
          client.destroy();
        }
      }
      write(`${count} result${count === 1 ? '' : 's'} ${verb}\n`);
    });
  return command;
}

function parseAgeOption(value: string): number {
  const ms = parseAge(value);
  if (ms === null) throw new InvalidArgumentError('expected an age such as 30d, 12h, 90m or 45s');
  return ms;
}
