// fs → S3 migration: list, skip what the manifest proves is done, copy the rest in parallel,
// verify each copy, and only then (with deleteSource) remove the source file — and the
// directories that leaves empty. An abort stops scheduling and cancels in-flight copies, whose
// sources stay; sources whose copies were already verified (and, with deleteSource, deleted)
// before the abort stay deleted.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import pLimit from 'p-limit';
import { describeS3Error } from '../s3-client.js';
import { copyAndVerify, verifyStored, type CopyTarget } from './copy-object.js';
import { openManifest, readManifest, type ManifestEntry } from './manifest.js';
import { listSource, type SourceFile } from './source.js';
import { taskSignals } from './task-signals.js';

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

/** The work of this run: files to copy (and, with deleteSource, verified sources to delete). */
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

/** One line of a dry run's listing. */
export interface PlannedFile {
  readonly key: string;
  readonly size: number;
  /** `copy`: not yet copied (`new`) or changed since its copy (`changed`). `delete`: with deleteSource, a source whose copy the manifest records (its object is re-checked before the delete). */
  readonly action: 'copy' | 'delete';
  readonly reason: 'new' | 'changed' | 'verified';
}

export interface MigrateReport {
  readonly copied: number;
  readonly copiedBytes: number;
  /** Already verified by an earlier run (manifest entry, source unchanged). */
  readonly skipped: number;
  /** Dry run: how many files would be copied, and their bytes. */
  readonly wouldCopy: number;
  readonly wouldCopyBytes: number;
  readonly deleted: number;
  /** Directories left empty by deleteSource and removed (never the store root). */
  readonly removedDirectories: number;
  readonly failed: Failure[];
  readonly interrupted: boolean;
  readonly elapsedMs: number;
  /** Dry run only: what would be done, in key order. */
  readonly plan?: PlannedFile[];
}

export async function migrate(options: MigrateOptions): Promise<MigrateReport> {
  const started = Date.now();
  const signal = options.signal ?? new AbortController().signal;
  const listing = await listSource(options.root);
  const failed: Failure[] = listing.refused.map((r) => ({ key: r.key, reason: r.reason }));
  const manifest = options.dryRun ? null : await openManifest(options.manifestFile);
  const previous: ReadonlyMap<string, ManifestEntry> = manifest?.entries ?? (await readManifest(options.manifestFile));

  const toCopy: { file: SourceFile; reason: 'new' | 'changed' }[] = [];
  const verified: { file: SourceFile; entry: ManifestEntry }[] = [];
  for (const file of listing.files) {
    const entry = previous.get(file.key);
    if (entry === undefined || entry.bucket !== options.target.bucket) toCopy.push({ file, reason: 'new' });
    else if (entry.size !== file.size || entry.mtimeMs !== file.mtimeMs) toCopy.push({ file, reason: 'changed' });
    else verified.push({ file, entry });
  }
  const counts = { copied: 0, copiedBytes: 0, skipped: verified.length, deleted: 0, removedDirectories: 0 };
  const wouldCopyBytes = toCopy.reduce((sum, c) => sum + c.file.size, 0);

  if (options.dryRun) {
    const plan: PlannedFile[] = [
      ...toCopy.map(({ file, reason }) => ({ key: file.key, size: file.size, action: 'copy' as const, reason })),
      ...(options.deleteSource ? verified.map(({ file }) => ({ key: file.key, size: file.size, action: 'delete' as const, reason: 'verified' as const })) : []),
    ].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { ...counts, wouldCopy: toCopy.length, wouldCopyBytes, failed, interrupted: signal.aborted, elapsedMs: Date.now() - started, plan };
  }

  const deletions = options.deleteSource ? verified : [];
  const totals = { totalFiles: toCopy.length + deletions.length, totalBytes: wouldCopyBytes };
  const done = { doneFiles: 0, doneBytes: 0 };
  const tick = (bytes: number): void => {
    done.doneFiles += 1;
    done.doneBytes += bytes;
    options.onProgress?.({ ...totals, ...done });
  };
  const deletedEntries: string[] = [];
  const deleteSource = async (file: SourceFile): Promise<void> => {
    await fsp.unlink(file.entryPath);
    deletedEntries.push(file.entryPath);
    counts.deleted += 1;
  };
  const attempt = async (file: SourceFile, step: () => Promise<void>): Promise<void> => {
    try {
      await step();
    } catch (error) {
      if (!signal.aborted) failed.push({ key: file.key, reason: describeS3Error(error) });
    }
  };

  const limit = pLimit(options.concurrency);
  const tasks = taskSignals(signal);
  const copy = (file: SourceFile): Promise<void> =>
    tasks.run(async (taskSignal) => {
      if (signal.aborted) return;
      await attempt(file, async () => {
        const sha256 = await copyAndVerify(options.target, file, taskSignal);
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
        // The copy is verified and recorded: only now may its source go.
        if (options.deleteSource) await deleteSource(file);
      });
      tick(file.size);
    });
  const recheckAndDelete = (file: SourceFile, entry: ManifestEntry): Promise<void> =>
    tasks.run(async (taskSignal) => {
      if (signal.aborted) return;
      // The manifest is a claim; the object itself must still prove it before a delete.
      await attempt(file, async () => {
        await verifyStored(options.target, file.key, entry.size, entry.sha256, taskSignal);
        await deleteSource(file);
      });
      tick(0);
    });

  try {
    await Promise.all([
      ...deletions.map(({ file, entry }) => limit(() => recheckAndDelete(file, entry))),
      ...toCopy.map(({ file }) => limit(() => copy(file))),
    ]);
  } finally {
    limit.clearQueue();
    tasks.dispose();
    await manifest?.close();
  }
  counts.removedDirectories = await removeEmptiedDirectories(listing.root, deletedEntries, failed);
  return { ...counts, wouldCopy: 0, wouldCopyBytes: 0, failed, interrupted: signal.aborted, elapsedMs: Date.now() - started };
}

/**
 * Removes the directories that held deleted sources, and their parents, while they are empty
 * (rmdir refuses a non-empty one, so a file that appeared meanwhile keeps its directory). The
 * store root itself stays.
 */
async function removeEmptiedDirectories(root: string, deletedEntries: readonly string[], failed: Failure[]): Promise<number> {
  const candidates = new Set<string>();
  for (const entry of deletedEntries) {
    for (let dir = path.dirname(entry); isStrictlyInside(root, dir); dir = path.dirname(dir)) candidates.add(dir);
  }
  // Deepest first: a parent can only be empty once its children are gone.
  const ordered = [...candidates].sort((a, b) => b.split(path.sep).length - a.split(path.sep).length || (a < b ? -1 : 1));
  let removed = 0;
  for (const dir of ordered) {
    try {
      await fsp.rmdir(dir);
      removed += 1;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOENT') {
        failed.push({ key: `${path.relative(root, dir).split(path.sep).join('/')}/`, reason: `emptied directory not removed: ${(error as Error).message}` });
      }
    }
  }
  return removed;
}

function isStrictlyInside(parent: string, child: string): boolean {
  const relative = path.relative(parent, child);
  return relative !== '' && relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}
