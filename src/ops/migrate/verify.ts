// `sluice migrate --verify`: re-checks a finished migration against its manifest. Every object
// must still have the recorded size and hash; a source file that still exists must still hash
// to it; with `deep`, each object is downloaded and hashed too.
//
// Without `deep` the object's bytes are never read: HeadObject's size and `x-amz-meta-sha256` are
// metadata that anyone with write access to the bucket can set, so a same-size object carrying
// the copied `sha256` metadata passes. Only `deep` catches that; use it for audits.
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { describeS3Error } from '../s3-client.js';
import { hashFile, verifyStored, type CopyTarget } from './copy-object.js';
import type { Failure, Progress } from './engine.js';
import { readManifest } from './manifest.js';
import { taskSignals } from './task-signals.js';

export interface VerifyOptions {
  readonly root: string;
  readonly target: CopyTarget;
  readonly manifestFile: string;
  readonly concurrency: number;
  readonly deep?: boolean;
  readonly signal?: AbortSignal;
  /** Objects and bytes checked so far (bytes: the recorded sizes of the objects checked). */
  readonly onProgress?: (progress: Progress) => void;
}

export interface VerifyReport {
  readonly checked: number;
  readonly ok: number;
  readonly failed: Failure[];
  /** Whether object bytes were downloaded and hashed (`deep`), or only their metadata compared. */
  readonly deep: boolean;
  /** Stopped by the signal before every object was checked. */
  readonly interrupted: boolean;
}

export async function verifyMigration(options: VerifyOptions): Promise<VerifyReport> {
  const signal = options.signal ?? new AbortController().signal;
  const entries = [...(await readManifest(options.manifestFile)).values()].filter((e) => e.bucket === options.target.bucket);
  if (entries.length === 0) throw new Error(`manifest ${options.manifestFile} has no entries for bucket "${options.target.bucket}"`);
  const failed: Failure[] = [];
  const totalBytes = entries.reduce((sum, e) => sum + e.size, 0);
  let checked = 0;
  let checkedBytes = 0;
  const limit = pLimit(options.concurrency);
  const tasks = taskSignals(signal);
  try {
    await Promise.all(
      entries.map((entry) =>
        limit(() =>
          tasks.run(async (taskSignal) => {
            if (signal.aborted) return;
            try {
              await verifyStored(options.target, entry.key, entry.size, entry.sha256, taskSignal);
              if (options.deep) {
                const stored = await hashObject(options.target, entry.key, taskSignal);
                if (stored !== entry.sha256) throw new Error(`content mismatch: object hashes to ${stored}, manifest says ${entry.sha256}`);
              }
              const sourcePath = path.join(options.root, ...entry.key.split('/'));
              const exists = await fsp.access(sourcePath).then(
                () => true,
                () => false,
              );
              if (exists && (await hashFile(sourcePath, taskSignal)) !== entry.sha256) throw new Error('source changed since it was migrated');
            } catch (error) {
              if (signal.aborted) return;
              failed.push({ key: entry.key, reason: describeS3Error(error) });
            }
            checked += 1;
            checkedBytes += entry.size;
            options.onProgress?.({ totalFiles: entries.length, totalBytes, doneFiles: checked, doneBytes: checkedBytes });
          }),
        ),
      ),
    );
  } finally {
    limit.clearQueue();
    tasks.dispose();
  }
  failed.sort((a, b) => a.key.localeCompare(b.key));
  return { checked, ok: checked - failed.length, failed, deep: options.deep === true, interrupted: signal.aborted };
}

async function hashObject(target: CopyTarget, key: string, signal: AbortSignal): Promise<string> {
  const response = await target.client.send(new GetObjectCommand({ Bucket: target.bucket, Key: key }), { abortSignal: signal });
  if (!(response.Body instanceof Readable)) throw new Error('response body is not a Node stream');
  const hash = createHash('sha256');
  await pipeline(response.Body, hash, { signal });
  return hash.digest('hex');
}
