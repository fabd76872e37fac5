// `sluice audit-bucket <store>`: can anyone read this bucket without Sluice? Exit code 1 if so.
import { Command, InvalidArgumentError } from 'commander';
import type { SluiceConfig } from '../config/schema.js';
import { auditBucket, type AuditReport } from '../ops/audit/audit.js';
import { progressReporter } from '../ops/migrate/progress.js';
import { opsS3Client, storeOfType } from '../ops/s3-client.js';

interface AuditOptions {
  sample?: number;
  fix?: boolean;
  concurrency: number;
  bucket?: string;
  json?: boolean;
}

export function auditBucketCommand(loadConfig: () => SluiceConfig, write: (text: string) => void = (t) => process.stdout.write(t)): Command {
  return new Command('audit-bucket')
    .description("report what makes an s3 store's objects readable without Sluice (ACLs, policy, public-access block)")
    .argument('<store>', 's3 store')
    .option('--sample <n>', 'check the ACLs of N random objects (default: all)', positiveInt)
    .option('--fix', 'reset public object ACLs (and a public bucket ACL) to private')
    .option('--concurrency <n>', 'parallel ACL requests', positiveInt, 8)
    .option('--bucket <bucket>', "audit this bucket of the store's account instead (e.g. a dynamic bucket)")
    .option('--json', 'print the report as JSON')
    .action(async (storeName: string, options: AuditOptions) => {
      const store = storeOfType(loadConfig(), storeName, 's3');
      const client = opsS3Client(store);
      const progress = progressReporter(process.stderr, 'audit');
      try {
        const report = await auditBucket(client, options.bucket ?? store.bucket, {
          concurrency: options.concurrency,
          fix: options.fix === true,
          ...(options.sample !== undefined && { sample: options.sample }),
          onProgress: (done, total) => progress.update({ totalFiles: total, totalBytes: 0, doneFiles: done, doneBytes: 0 }),
        });
        progress.stop();
        write(options.json ? `${JSON.stringify(report)}\n` : formatReport(report));
        if (report.publicFound) process.exitCode = 1;
      } finally {
        progress.stop();
        client.destroy();
      }
    });
}

export function formatReport(report: AuditReport): string {
  const lines = [`bucket ${report.bucket}`];
  for (const check of report.checks) {
    lines.push(`  ${check.check.padEnd(20)} ${check.status.padEnd(11)} ${check.detail}`);
    for (const finding of check.findings) lines.push(`      public: ${finding}`);
  }
  if (report.fix !== undefined) {
    lines.push(`fixed ${report.fix.fixed.length}, failed ${report.fix.failed.length}`);
    for (const f of report.fix.failed) lines.push(`  not fixed ${f.target}: ${f.reason}`);
  }
  lines.push(report.publicFound ? 'RESULT: readable without Sluice' : 'RESULT: nothing public found');
  return `${lines.join('\n')}\n`;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}
