// The shared result store as the worker sees it (docs/transforms.md, "Shared result store"):
// look a finished result up, point nginx at it, keep a new one. S3 objects are written with one
// PUT of the finished bytes; fs files go to a temporary name and are renamed into place, so a
// reader never sees a partial result. These are the Store's missing write side (head with
// metadata, put, list, delete) written for this one use; they could move onto Store later.
import { randomUUID } from 'node:crypto';
import { constants, promises as fsp } from 'node:fs';
import path from 'node:path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { FsStoreConfig, S3StoreConfig, SluiceConfig } from '../../config/schema.js';
import type { ResultStoreConfig } from '../../config/transform-schema.js';
import { imageResultFsLocation, imageResultLocation, RESULT_PATH_HEADER } from '../../contract/result-store.js';
import { createS3Client, S3_PROFILES } from '../../storage/s3-client.js';
import { s3Origin, splitPresignedUrl } from '../../storage/s3-store.js';
import { resultObjectName } from '../../transform/result-key.js';
import { sniffRaw } from './raw.js';

/** A result found in the store: what nginx needs to serve it with the right type. */
export interface StoredResult {
  readonly format: string;
  readonly contentType: string;
  /** The ETag its reader (S3, or nginx for fs) answers with; absent when the store does not say. */
  readonly etag?: string;
}

/** The worker's answer that sends nginx to the stored bytes (X-Accel-Redirect + private headers). */
export interface ResultRedirect {
  readonly location: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface ResultToKeep {
  readonly format: string;
  readonly contentType: string;
  readonly data: Buffer;
}

export interface ResultStore {
  readonly kind: 'fs' | 's3';
  /** null: not (yet) stored. */
  find(key: string): Promise<StoredResult | null>;
  /**
   * Stores the finished bytes atomically (a concurrent writer of the same key writes the same
   * bytes). Resolves to the ETag the stored copy is served with, so every node answers with one
   * validator; undefined when the store does not say.
   */
  keep(key: string, result: ResultToKeep): Promise<string | undefined>;
  /** Where nginx fetches it; `disposition` is the download name of this request. */
  redirect(key: string, found: StoredResult, disposition: string | undefined): Promise<ResultRedirect>;
}

/** S3 user metadata naming the result's format (its Content-Type says the same, for people). */
const FORMAT_META = 'sluice-format';

/** The configured result store, or null when transform.resultStore is unset. */
export async function createResultStore(config: SluiceConfig): Promise<ResultStore | null> {
  const settings = config.transform.resultStore;
  if (settings === undefined) return null;
  const store = config.stores[settings.store];
  // The schema refused anything else; this only narrows the type.
  if (store === undefined) throw new Error(`transform.resultStore: no store "${settings.store}"`);
  const internal = config.nginx.internalPrefix;
  return store.type === 's3' ? s3ResultStore(store, settings, internal) : fsResultStore(store, settings, internal);
}

async function s3ResultStore(store: S3StoreConfig, settings: ResultStoreConfig, internal: string): Promise<ResultStore> {
  const client: S3Client = createS3Client(store, S3_PROFILES.download);
  const origin = await s3Origin(store);
  const at = (key: string): { Bucket: string; Key: string } => ({ Bucket: store.bucket, Key: resultObjectName(settings.prefix, key) });
  return {
    kind: 's3',
    async find(key) {
      try {
        const head = await client.send(new HeadObjectCommand(at(key)));
        const format = head.Metadata?.[FORMAT_META];
        if (format === undefined || head.ContentType === undefined) return null;
        return { format, contentType: head.ContentType, ...(head.ETag !== undefined && { etag: head.ETag }) };
      } catch (error) {
        if (httpStatus(error) === 404 || (error as { name?: unknown } | null)?.name === 'NotFound') return null;
        throw error;
      }
    },
    async keep(key, result) {
      // One PutObject: S3's ETag is the MD5 of the bytes (or what SSE makes of it), and whatever it
      // is, the PUT's answer names the ETag every later GET of the object carries.
      const put = await client.send(
        new PutObjectCommand({ ...at(key), Body: result.data, ContentType: result.contentType, Metadata: { [FORMAT_META]: result.format } }),
      );
      return put.ETag;
    },
    async redirect(key, found, disposition) {
      // Type and name are signed into the URL: S3 answers with exactly these, and nginx keeps them
      // with the body when it caches the answer.
      const command = new GetObjectCommand({
        ...at(key),
        ResponseContentType: found.contentType,
        ...(disposition !== undefined && { ResponseContentDisposition: disposition }),
      });
      const url = await getSignedUrl(client, command, { expiresIn: store.presignTtlSeconds });
      return { location: imageResultLocation(internal), headers: { [RESULT_PATH_HEADER]: splitPresignedUrl(url, origin) } };
    },
  };
}

function fsResultStore(store: FsStoreConfig, settings: ResultStoreConfig, internal: string): ResultStore {
  const root = path.resolve(store.root);
  const fileOf = (key: string): string => path.join(root, ...resultObjectName(settings.prefix, key).split('/'));
  return {
    kind: 'fs',
    async find(key) {
      let handle: fsp.FileHandle;
      try {
        handle = await fsp.open(fileOf(key), constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
      } catch (error) {
        if (isMissing(error)) return null;
        throw error;
      }
      try {
        // The bytes say the format (as for raw sources): no sidecar file to keep in step.
        const head = Buffer.alloc(1024);
        const { bytesRead } = await handle.read(head, 0, head.length, 0);
        const sniffed = sniffRaw(head.subarray(0, bytesRead));
        if (sniffed.contentType === undefined || sniffed.attachmentOnly === true) return null;
        return { format: sniffed.format, contentType: sniffed.contentType, etag: nginxFileEtag(await handle.stat()) };
      } finally {
        await handle.close();
      }
    },
    async keep(key, result) {
      const file = fileOf(key);
      await fsp.mkdir(path.dirname(file), { recursive: true });
      // Same directory, so rename(2) is atomic; readers see the old file, the new one, or none.
      const temporary = `${file}.${randomUUID()}.tmp`;
      try {
        await fsp.writeFile(temporary, result.data, { flag: 'wx' });
        const written = await fsp.stat(temporary);
        await fsp.rename(temporary, file);
        return nginxFileEtag(written);
      } catch (error) {
        await fsp.rm(temporary, { force: true });
        throw error;
      }
    },
    async redirect(key, found, disposition) {
      const name = resultObjectName('', key);
      // nginx's static handler keeps a Content-Type the redirecting answer set; the name too.
      return {
        location: `${imageResultFsLocation(internal)}${name}`,
        headers: { 'Content-Type': found.contentType, ...(disposition !== undefined && { 'Content-Disposition': disposition }) },
      };
    },
  };
}

/** nginx's own ETag for a static file (`etag on`, its default): hex mtime seconds and size. */
function nginxFileEtag(stats: { readonly mtimeMs: number; readonly size: number }): string {
  return `"${Math.floor(stats.mtimeMs / 1000).toString(16)}-${stats.size.toString(16)}"`;
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP';
}

function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}
