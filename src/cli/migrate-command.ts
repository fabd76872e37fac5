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
    .option('--dry-run', 'list each file that would be copied (with --delete-source: each source that would be deleted); write and delete nothing')
    .option(
      '--delete-source',
      'delete each source file once its copy is verified (and directories that leaves empty); an interrupted run keeps the deletions it made',
    )
    .option(
      '--verify',
      'do not copy: re-check a finished migration against its manifest (compares recorded size and sha256 METADATA only: a same-size object carrying the copied metadata passes; use --deep for audits)',
    )
    .option('--deep', 'with --verify: also download every object and compare the SHA-256 of its bytes (recommended for audits)')
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
        const sources =
          options.deleteSource && !options.verify && !options.dryRun
            ? 'sources deleted so far had verified copies; the rest stay in place'
            : 'source files stay in place';
        process.stderr.write(`\nsluice: interrupted; starting nothing new, copies in flight are abandoned; ${sources}\n`);
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
            onProgress: (p) => progress.update(p),
          });
          progress.stop();
          const how = report.deep ? '' : ' (size and sha256 metadata only; --deep hashes the bytes)';
          const interrupted = report.interrupted ? 'interrupted: not every object was checked\n' : '';
          write(
            options.json ? `${JSON.stringify(report)}\n` : `verified ${report.ok}/${report.checked} objects${how}\n${interrupted}${failures(report.failed)}`,
          );
          if (report.failed.length > 0 || report.interrupted) process.exitCode = 1;
          return;
        }
        if (options.deep) throw new Error('--deep only applies to --verify');
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
  const mb = (bytes: number): string => (bytes / 1_048_576).toFixed(1);
  const lines = dryRun
    ? [
        ...(report.plan ?? []).map((p) => `would ${p.action} ${p.key} (${p.size} bytes, ${p.reason})`),
        `dry run: ${report.wouldCopy} to copy (${mb(report.wouldCopyBytes)} MB), ${report.skipped} already verified` +
          ((report.plan ?? []).some((p) => p.action === 'delete')
            ? `, ${(report.plan ?? []).filter((p) => p.action === 'delete').length} verified sources to delete`
            : '') +
          '; nothing was written or deleted',
      ]
    : [
        `copied ${report.copied} (${mb(report.copiedBytes)} MB in ${seconds.toFixed(1)} s), skipped ${report.skipped} already verified, deleted ${report.deleted} source files` +
          (report.removedDirectories > 0 ? ` and ${report.removedDirectories} emptied directories` : '') +
          `, failed ${report.failed.length}`,
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
