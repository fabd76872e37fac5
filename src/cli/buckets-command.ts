// `sluice buckets ensure|current`: dynamic buckets (stores with `bucketTemplate`).
import { Command, InvalidArgumentError } from 'commander';
import type { S3StoreConfig, SluiceConfig } from '../config/schema.js';
import { ensureBuckets } from '../ops/buckets.js';
import { writeTarget } from '../config/dynamic-bucket.js';
import { opsS3Client } from '../ops/s3-client.js';

type DynamicStore = S3StoreConfig & { bucketTemplate: string };

export function bucketsCommand(loadConfig: () => SluiceConfig, write: (text: string) => void = (t) => process.stdout.write(t)): Command {
  const command = new Command('buckets').description('dynamic buckets of s3 stores that set bucketTemplate');
  command
    .command('ensure')
    .description("create the current and the next period's bucket (idempotent; run it from cron)")
    .option('--store <store>', 'only this store (default: every store with bucketTemplate)')
    .option('--at <date>', 'pretend it is this ISO date/time (default: now)', parseDate)
    .action(async (options: { store?: string; at?: Date }) => {
      for (const [name, store] of dynamicStores(loadConfig(), options.store)) {
        const client = opsS3Client(store);
        try {
          for (const b of await ensureBuckets(client, store, options.at ?? new Date())) {
            write(`${name}\t${b.period}\t${b.bucket}\t${b.created ? 'created' : 'exists'}\n`);
          }
        } finally {
          client.destroy();
        }
      }
    });
  command
    .command('current')
    .description("print where new objects go now: the period (the stored key's first segment) and its bucket")
    .option('--store <store>', 'only this store')
    .option('--at <date>', 'pretend it is this ISO date/time (default: now)', parseDate)
    .action((options: { store?: string; at?: Date }) => {
      for (const [name, store] of dynamicStores(loadConfig(), options.store)) {
        const target = writeTarget(store, options.at ?? new Date());
        write(`${name}\t${target.period}/\t${target.bucket}\n`);
      }
    });
  return command;
}

function dynamicStores(config: SluiceConfig, only: string | undefined): [string, DynamicStore][] {
  const stores = Object.entries(config.stores).filter(
    (entry): entry is [string, DynamicStore] => entry[1].type === 's3' && entry[1].bucketTemplate !== undefined,
  );
  const chosen = only === undefined ? stores : stores.filter(([name]) => name === only);
  if (chosen.length === 0) throw new Error(only === undefined ? 'no s3 store sets bucketTemplate' : `store "${only}" is not an s3 store with bucketTemplate`);
  return chosen;
}

function parseDate(value: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new InvalidArgumentError('expected an ISO date such as 2026-11-30T23:59:00Z');
  return date;
}
