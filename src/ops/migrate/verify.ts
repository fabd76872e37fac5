// `sluice migrate --verify`: re-checks a finished migration against its manifest. Every object
// must still have the recorded size and hash; a source file that still exists must still hash
// to it; with `deep`, each object is downloaded and hashed too (catches same-size tampering).
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { describeS3Error } from '../s3-client.js';
import { hashFile, verifyStored, type CopyTarget } from './copy-object.js';
import type { Failure } from './engine.js';
import { readManifest } from './manifest.js';

export interface VerifyOptions {
  readonly root: string;
  readonly target: CopyTarget;
  readonly manifestFile: string;
  readonly concurrency: number;
  readonly deep?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (checked: number, total: number) => void;
}

export interface VerifyReport {
  readonly checked: number;
  readonly ok: number;
  readonly failed: Failure[];
}

export async function verifyMigration(options: VerifyOptions): Promise<VerifyReport> {
  const signal = options.signal ?? new AbortController().signal;
  const entries = [...(await readManifest(options.manifestFile)).values()].filter((e) => e.bucket === options.target.bucket);
  if (entries.length === 0) throw new Error(`manifest ${options.manifestFile} has no entries for bucket "${options.target.bucket}"`);
  const failed: Failure[] = [];
  let checked = 0;
  const limit = pLimit(options.concurrency);
  await Promise.all(
    entries.map((entry) =>
      limit(async () => {
        try {
          await verifyStored(options.target, entry.key, entry.size, entry.sha256, signal);
          if (options.deep) {
            const stored = await hashObject(options.target, entry.key, signal);
            if (stored !== entry.sha256) throw new Error(`content mismatch: object hashes to ${stored}, manifest says ${entry.sha256}`);
          }
          const sourcePath = path.join(options.root, ...entry.key.split('/'));
          const exists = await fsp.access(sourcePath).then(() => true, () => false);
          if (exists && (await hashFile(sourcePath, signal)) !== entry.sha256) throw new Error('source changed since it was migrated');
        } catch (error) {
          failed.push({ key: entry.key, reason: error instanceof Error && !('$metadata' in error) ? error.message : describeS3Error(error) });
        }
        checked += 1;
        options.onProgress?.(checked, entries.length);
      }),
    ),
  );
  failed.sort((a, b) => a.key.localeCompare(b.key));
  return { checked, ok: checked - failed.length, failed };
}

async function hashObject(target: CopyTarget, key: string, signal: AbortSignal): Promise<string> {
  const response = await target.client.send(new GetObjectCommand({ Bucket: target.bucket, Key: key }), { abortSignal: signal });
  if (!(response.Body instanceof Readable)) throw new Error('response body is not a Node stream');
  const hash = createHash('sha256');
  await pipeline(response.Body, hash);
  return hash.digest('hex');
}
