// `sluice results prune`: deletes stored results older than a cutoff from the shared result store
// (S3: ListObjectsV2 under the prefix + DeleteObjects in batches; fs: a walk of the prefix, stale
// temporary files included). Only names under the prefix are touched.
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { FsStoreConfig, S3StoreConfig } from '../../config/schema.js';
import type { ResultStoreConfig } from '../../config/transform-schema.js';

export interface PrunedResult {
  /** The object name in the store. */
  readonly name: string;
  readonly lastModified: Date;
}

export interface PruneOptions {
  readonly olderThan: Date;
  /** List only; delete nothing. */
  readonly dryRun: boolean;
  /** Called for every result that is (or would be) deleted. */
  readonly onResult: (result: PrunedResult) => void;
}

/** S3 DeleteObjects takes at most 1000 keys. */
const DELETE_BATCH = 1000;

export async function pruneS3Results(client: S3Client, store: S3StoreConfig, settings: ResultStoreConfig, options: PruneOptions): Promise<number> {
  let count = 0;
  let batch: string[] = [];
  const flush = async (): Promise<void> => {
    if (batch.length === 0 || options.dryRun) return;
    const answer = await client.send(
      withContentMd5(new DeleteObjectsCommand({ Bucket: store.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } })),
    );
    const failed = answer.Errors ?? [];
    if (failed.length > 0) throw new Error(`${failed.length} results could not be deleted (first: ${failed[0]?.Key ?? '?'}: ${failed[0]?.Code ?? 'error'})`);
    batch = [];
  };
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: store.bucket, Prefix: settings.prefix, ...(token !== undefined && { ContinuationToken: token }) }),
    );
    for (const object of page.Contents ?? []) {
      if (object.Key === undefined || object.LastModified === undefined || object.LastModified >= options.olderThan) continue;
      options.onResult({ name: object.Key, lastModified: object.LastModified });
      count += 1;
      batch.push(object.Key);
      if (batch.length >= DELETE_BATCH) await flush();
    }
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  await flush();
  return count;
}

/**
 * DeleteObjects must carry an integrity header; the SDK sends a CRC32 one, which AWS takes but
 * Swift's s3api and older MinIO refuse without Content-MD5, so that is added too.
 */
function withContentMd5(command: DeleteObjectsCommand): DeleteObjectsCommand {
  command.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers?: Record<string, string>; body?: unknown };
      if (request.headers !== undefined && (typeof request.body === 'string' || request.body instanceof Uint8Array)) {
        request.headers['content-md5'] = createHash('md5').update(request.body).digest('base64');
      }
      return next(args);
    },
    { step: 'build', name: 'sluiceContentMd5' },
  );
  return command;
}

export async function pruneFsResults(store: FsStoreConfig, settings: ResultStoreConfig, options: PruneOptions): Promise<number> {
  const root = path.resolve(store.root);
  const base = path.join(root, settings.prefix);
  let count = 0;
  const walk = async (dir: string): Promise<void> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fsp.readdir(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      // Never follows symlinks out of the prefix; only plain files are results.
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) {
        const stats = await fsp.lstat(full);
        if (stats.mtime >= options.olderThan) continue;
        options.onResult({ name: path.relative(root, full).split(path.sep).join('/'), lastModified: stats.mtime });
        count += 1;
        if (!options.dryRun) await fsp.rm(full, { force: true });
      }
    }
  };
  await walk(base);
  return count;
}

/** `30d`, `12h`, `90m`, `45s` → milliseconds; anything else → null. */
export function parseAge(text: string): number | null {
  const match = /^(\d+)([smhd])$/.exec(text.trim());
  if (match === null) return null;
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd'];
  const ms = Number(match[1]) * unit;
  return ms > 0 ? ms : null;
}
