// `sluice migrate --from <fs store> --to <s3 store>`: copy, verify, resume; `--verify` re-checks.
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import type { SluiceConfig } from '../config/schema.js';
import { migrate, type Failure, type MigrateReport } from '../ops/migrate/engine.js';
import { progressReporter } from '../ops/migrate/progress.js';
import { verifyMigration } from '../ops/migrate/verify.js';
import { opsS3Client, storeOfType } from '../ops/s3-client.js';

interface MigrateCommandOptions {
  from: string;
  to: string;
  concurrency: number;
  manifest?: string;
  dryRun?: boolean;
  deleteSource?: boolean;
  verify?: boolean;
  deep?: boolean;
  json?: boolean;
}

export function migrateCommand(loadConfig: () => SluiceConfig, write: (text: string) => void = (t) => process.stdout.write(t)): Command {
  return new Command('migrate')
    .description('copy an fs store into an s3 store: parallel, verified (SHA-256), resumable from a manifest')
    .requiredOption('--from <store>', 'source fs store')
    .requiredOption('--to <store>', 'destination s3 store')
    .option('--concurrency <n>', 'parallel uploads', positiveInt, 8)
    .option('--manifest <file>', 'JSON-lines manifest of verified copies (default: sluice-migrate-<from>-<to>.jsonl)')
    .option('--dry-run', 'list what would be copied; write nothing')
    .option('--delete-source', 'delete each source file once its copy is verified')
    .option('--verify', 'do not copy: re-check a finished migration against its manifest')
    .option('--deep', 'with --verify: also download every object and compare its SHA-256')
    .option('--json', 'print the final report as JSON')
    .action(async (options: MigrateCommandOptions) => {
      const config = loadConfig();
      const source = storeOfType(config, options.from, 'fs');
      const destination = storeOfType(config, options.to, 's3');
      // Bytes are copied as they are: ciphertext stays ciphertext, plaintext must not land in an encrypted store.
      if (source.encrypted !== destination.encrypted) {
        throw new Error(`store "${source.encrypted ? options.from : options.to}" is encrypted and the other is not: migrate copies bytes unchanged`);
      }
      const client = opsS3Client(destination);
      const target = { client, bucket: destination.bucket };
      const manifestFile = options.manifest ?? path.resolve(`sluice-migrate-${options.from}-${options.to}.jsonl`);
      const controller = new AbortController();
      const onSignal = (): void => {
        process.stderr.write('\nsluice: interrupted; finishing nothing new, source files stay in place\n');
        controller.abort();
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const progress = progressReporter(process.stderr, options.verify ? 'verify' : 'migrate');
      try {
        if (options.verify) {
          const report = await verifyMigration({
            root: source.root,
            target,
            manifestFile,
            concurrency: options.concurrency,
            deep: options.deep === true,
            signal: controller.signal,
            onProgress: (checked, total) => progress.update({ totalFiles: total, totalBytes: 0, doneFiles: checked, doneBytes: 0 }),
          });
          progress.stop();
          write(options.json ? `${JSON.stringify(report)}\n` : `verified ${report.ok}/${report.checked} objects\n${failures(report.failed)}`);
          if (report.failed.length > 0) process.exitCode = 1;
          return;
        }
        const report = await migrate({
          root: source.root,
          target,
          manifestFile,
          concurrency: options.concurrency,
          dryRun: options.dryRun === true,
          deleteSource: options.deleteSource === true,
          signal: controller.signal,
          onProgress: (p) => progress.update(p),
        });
        progress.stop();
        write(options.json ? `${JSON.stringify(report)}\n` : summary(report, options.dryRun === true));
        if (report.failed.length > 0 || report.interrupted) process.exitCode = 1;
      } finally {
        progress.stop();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        client.destroy();
      }
    });
}

function summary(report: MigrateReport, dryRun: boolean): string {
  const seconds = report.elapsedMs / 1000;
  const lines = dryRun
    ? [`dry run: ${report.wouldCopy} to copy, ${report.skipped} already verified`]
    : [
        `copied ${report.copied} (${(report.copiedBytes / 1_048_576).toFixed(1)} MB in ${seconds.toFixed(1)} s), skipped ${report.skipped} already verified, deleted ${report.deleted} source files, failed ${report.failed.length}`,
      ];
  if (report.interrupted) lines.push('interrupted: re-run the same command to resume');
  return `${lines.join('\n')}\n${failures(report.failed)}`;
}

function failures(failed: readonly Failure[]): string {
  return failed.map((f) => `  failed ${f.key}: ${f.reason}\n`).join('');
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new InvalidArgumentError('expected a whole number from 1 to 256');
  return n;
}
