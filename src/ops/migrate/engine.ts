// fs → S3 migration: list, skip what the manifest proves is done, copy the rest in parallel,
// verify each copy, and only then (with deleteSource) remove the source file. An abort stops
// scheduling, cancels in-flight uploads and leaves every source file in place.
import { setMaxListeners } from 'node:events';
import { promises as fsp } from 'node:fs';
import pLimit from 'p-limit';
import { describeS3Error } from '../s3-client.js';
import { copyAndVerify, verifyStored, type CopyTarget } from './copy-object.js';
import { openManifest, readManifest, type ManifestEntry } from './manifest.js';
import { listSource, type SourceFile } from './source.js';

export interface MigrateOptions {
  readonly root: string;
  readonly target: CopyTarget;
  readonly manifestFile: string;
  readonly concurrency: number;
  readonly dryRun?: boolean;
  readonly deleteSource?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: Progress) => void;
  readonly now?: () => Date;
}

export interface Progress {
  readonly totalFiles: number;
  readonly totalBytes: number;
  readonly doneFiles: number;
  readonly doneBytes: number;
}

export interface Failure {
  readonly key: string;
  readonly reason: string;
}

export interface MigrateReport {
  readonly copied: number;
  readonly copiedBytes: number;
  readonly skipped: number;
  /** Dry run: what would be copied. */
  readonly wouldCopy: number;
  readonly deleted: number;
  readonly failed: Failure[];
  readonly interrupted: boolean;
  readonly elapsedMs: number;
}

export async function migrate(options: MigrateOptions): Promise<MigrateReport> {
  const started = Date.now();
  const signal = options.signal ?? new AbortController().signal;
  // Every parallel copy listens on the one signal (SDK calls, streams): not a leak, so raise
  // Node's warning threshold to what the concurrency really needs.
  setMaxListeners(Math.max(10, options.concurrency * 6), signal);
  const listing = await listSource(options.root);
  const failed: Failure[] = listing.refused.map((r) => ({ key: r.key, reason: r.reason }));
  const totals = { totalFiles: listing.files.length, totalBytes: listing.files.reduce((sum, f) => sum + f.size, 0) };
  const done = { doneFiles: 0, doneBytes: 0 };
  const counts = { copied: 0, copiedBytes: 0, skipped: 0, wouldCopy: 0, deleted: 0 };
  const tick = (file: SourceFile): void => {
    done.doneFiles += 1;
    done.doneBytes += file.size;
    options.onProgress?.({ ...totals, ...done });
  };

  const manifest = options.dryRun ? null : await openManifest(options.manifestFile);
  const previous: ReadonlyMap<string, ManifestEntry> = manifest?.entries ?? (await readManifest(options.manifestFile));
  const limit = pLimit(options.concurrency);

  const handle = async (file: SourceFile): Promise<void> => {
    if (signal.aborted) return;
    try {
      const entry = previous.get(file.key);
      if (entry !== undefined && isCurrent(entry, file, options.target.bucket)) {
        counts.skipped += 1;
        if (options.deleteSource) {
          // The manifest is a claim; the object itself must still prove it before a delete.
          await verifyStored(options.target, file.key, entry.size, entry.sha256, signal);
          await deleteFile(file, counts);
        }
      } else if (options.dryRun) {
        counts.wouldCopy += 1;
      } else {
        const sha256 = await copyAndVerify(options.target, file, signal);
        await manifest?.append({
          key: file.key,
          size: file.size,
          mtimeMs: file.mtimeMs,
          sha256,
          bucket: options.target.bucket,
          verifiedAt: (options.now ?? (() => new Date()))().toISOString(),
        });
        counts.copied += 1;
        counts.copiedBytes += file.size;
        if (options.deleteSource) await deleteFile(file, counts);
      }
    } catch (error) {
      if (signal.aborted) return;
      failed.push({ key: file.key, reason: describeS3Error(error) });
    }
    tick(file);
  };

  try {
    await Promise.all(listing.files.map((file) => limit(() => handle(file))));
  } finally {
    limit.clearQueue();
    await manifest?.close();
  }
  return { ...counts, failed, interrupted: signal.aborted, elapsedMs: Date.now() - started };
}

function isCurrent(entry: ManifestEntry, file: SourceFile, bucket: string): boolean {
  return entry.size === file.size && entry.mtimeMs === file.mtimeMs && entry.bucket === bucket;
}

async function deleteFile(file: SourceFile, counts: { deleted: number }): Promise<void> {
  await fsp.unlink(file.entryPath);
  counts.deleted += 1;
}
