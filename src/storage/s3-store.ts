// An S3 bucket (AWS, MinIO, Swift, Ceph). nginx and redirect modes only presign (no network);
// stream mode talks to the bucket with short timeouts so a sick backend fails fast; writes
// (s3-writes.ts) use a patient client of their own.
import { Readable } from 'node:stream';
import { GetObjectCommand, HeadBucketCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { S3StoreConfig } from '../config/schema.js';
import { notFound, storageUnavailable } from '../errors.js';
import { locateObject } from '../config/dynamic-bucket.js';
import { S3_PATH_HEADER } from '../contract/headers.js';
import { s3Location } from '../contract/nginx-locations.js';
import { createS3Client, S3_PROFILES } from './s3-client.js';
import { errorName, httpStatus, isObjectMissing } from './s3-errors.js';
import { s3Writes } from './s3-writes.js';
import type { AccelTarget, ByteRange, CanonicalKey, ObjectInfo, ReadMethod, ResponseOverrides, Store } from './types.js';

const PROBE_KEY = 'sluice-origin-probe';
/** Signing is offline: any well-formed credentials give the same URL shape. */
const PROBE_CREDENTIALS = { accessKeyId: 'SLUICEPROBE', secretAccessKey: 'sluice-probe-secret' };

/**
 * scheme://host[:port] and the rest. A regex, not `new URL()`: the WHATWG parser would collapse
 * "/../" inside keys and change the path that was signed.
 */
const URL_PARTS = /^(https?:\/\/[^/?#]+)(\/[^#]*)$/;

export function createS3Store(name: string, config: S3StoreConfig, internalPrefix: string): Store {
  const client = createS3Client(config, S3_PROFILES.download);
  // Writes move data: their own, patient client (the SDK opens no connection until the first call).
  const writes = s3Writes(createS3Client(config, S3_PROFILES.transfer), (key) => locateObject(config, key), !config.encrypted);
  const location = s3Location(internalPrefix, name);
  let expectedOrigin: Promise<string> | undefined;

  const presign = (key: CanonicalKey, method: ReadMethod, overrides?: ResponseOverrides): Promise<string> =>
    presignUrl(client, config, key.value, method, overrides);

  return {
    name,
    kind: 's3',
    encrypted: config.encrypted,
    delivery: config.delivery,
    cacheControl: config.cacheControl,

    async accelTarget(key: CanonicalKey, method: ReadMethod): Promise<AccelTarget> {
      const url = await presign(key, method);
      expectedOrigin ??= s3Origin(config);
      const pathAndQuery = splitPresignedUrl(url, await expectedOrigin);
      return { location, headers: { [S3_PATH_HEADER]: pathAndQuery } };
    },

    presignedUrl: presign,

    async stat(key: CanonicalKey): Promise<ObjectInfo | null> {
      try {
        const head = await client.send(new HeadObjectCommand(locateObject(config, key.value)));
        return {
          size: head.ContentLength ?? 0,
          ...(head.ETag !== undefined && { etag: head.ETag }),
          ...(head.LastModified !== undefined && { lastModified: head.LastModified }),
        };
      } catch (error) {
        if (isObjectMissing(error)) return null;
        throw storageUnavailable(error);
      }
    },

    async read(key: CanonicalKey, range?: ByteRange): Promise<Readable> {
      let body: unknown;
      let contentLength: number | undefined;
      try {
        const response = await client.send(
          new GetObjectCommand({
            ...locateObject(config, key.value),
            ...(range !== undefined && { Range: `bytes=${range.start}-${range.end}` }),
          }),
        );
        body = response.Body;
        contentLength = response.ContentLength;
      } catch (error) {
        if (isObjectMissing(error)) throw notFound();
        throw storageUnavailable(error);
      }
      if (!(body instanceof Readable)) throw new Error(`s3 store "${name}": response body is not a Node stream`);
      // A backend that ignores Range would otherwise send the wrong bytes under a 206.
      if (range !== undefined && contentLength !== undefined && contentLength !== range.end - range.start + 1) {
        body.destroy();
        throw storageUnavailable(new Error(`s3 store "${name}": backend ignored the Range header`));
      }
      return body;
    },

    ...writes,

    async check(): Promise<void> {
      try {
        await client.send(new HeadBucketCommand({ Bucket: config.bucket }));
      } catch (error) {
        throw new Error(`s3 store "${name}": bucket "${config.bucket}" is not reachable (${describe(error)})`, {
          cause: error,
        });
      }
    },
  };
}

/**
 * The scheme://host[:port] every presigned URL of this store starts with (nginx's upstream and
 * Host header). Found by presigning a probe key offline, so it is exactly what the SDK will
 * produce, including virtual-hosted vs path-style and dotted bucket names.
 */
export async function s3Origin(config: S3StoreConfig): Promise<string> {
  const client = createS3Client(config, S3_PROFILES.download, { credentials: PROBE_CREDENTIALS });
  try {
    const url = await presignUrl(client, config, PROBE_KEY, 'GET');
    const match = URL_PARTS.exec(url);
    if (match?.[1] === undefined) throw new Error('presigned URL has an unexpected shape');
    return match[1];
  } finally {
    client.destroy();
  }
}

/**
 * The path+query of a presigned URL, after checking it points at the store's own origin: a
 * URL for any other host would turn the internal location into an open proxy.
 */
export function splitPresignedUrl(url: string, expectedOrigin: string): string {
  const match = URL_PARTS.exec(url);
  const origin = match?.[1];
  const pathAndQuery = match?.[2];
  if (origin === undefined || pathAndQuery === undefined || origin !== expectedOrigin) {
    throw new Error('presigned URL does not point at the store origin');
  }
  return pathAndQuery;
}

function presignUrl(client: S3Client, config: S3StoreConfig, key: string, method: ReadMethod, overrides: ResponseOverrides = {}): Promise<string> {
  // SigV4 signs the method: a GET-signed URL is refused for HEAD, so each gets its own command.
  // The response-* overrides are signed too, so the client cannot change them.
  const input = {
    ...locateObject(config, key),
    ...(overrides.contentType !== undefined && { ResponseContentType: overrides.contentType }),
    ...(overrides.contentDisposition !== undefined && { ResponseContentDisposition: overrides.contentDisposition }),
    ...(overrides.cacheControl !== undefined && { ResponseCacheControl: overrides.cacheControl }),
  };
  const command = method === 'HEAD' ? new HeadObjectCommand(input) : new GetObjectCommand(input);
  return getSignedUrl(client, command, { expiresIn: config.presignTtlSeconds });
}

function describe(error: unknown): string {
  const status = httpStatus(error);
  return [errorName(error) ?? 'error', status === undefined ? undefined : `HTTP ${status}`].filter((part) => part !== undefined).join(', ');
}
