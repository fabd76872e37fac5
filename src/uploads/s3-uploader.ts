// The S3 side of uploads: presigned PutObject/UploadPart URLs (length and type bound into the
// SigV4 signature, which Swift s3api and AWS enforce), multipart create/complete/abort, and
// HeadObject for "already written" and the final size check. Objects are written private:
// no ACL header is ever set or signed.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Readable } from 'node:stream';
import type { S3StoreConfig } from '../config/schema.js';
import { storageUnavailable } from '../errors.js';
import { locateObject } from '../ops/dynamic-bucket.js';
import { createS3Client, S3_PROFILES } from '../storage/s3-client.js';

export interface CompletedPart {
  readonly partNumber: number;
  readonly etag: string;
}

export interface S3Uploader {
  /** Size of the stored object, or null when there is none. */
  sizeOf(key: string): Promise<number | null>;
  presignPut(key: string, size: number, contentType: string, ttlSeconds: number): Promise<string>;
  createMultipart(key: string, contentType: string): Promise<string>;
  presignPart(key: string, uploadId: string, partNumber: number, size: number, ttlSeconds: number): Promise<string>;
  complete(key: string, uploadId: string, parts: readonly CompletedPart[]): Promise<void>;
  abort(key: string, uploadId: string): Promise<void>;
  remove(key: string): Promise<void>;
  /** Streams a body of unknown length (multipart above one part; memory ≈ 2 parts). */
  uploadStream(key: string, body: Readable, contentType: string, signal?: AbortSignal): Promise<void>;
}

/** Part size and parallel parts of streamed uploads: bounds the memory of one upload. */
const STREAM_PART_BYTES = 8 * 1024 * 1024;
const STREAM_QUEUE = 2;

/** Headers that must be signed so the client cannot change them. A part has no type of its own
 * (the object's is set at CreateMultipartUpload), and signing one would force the client to send it. */
const BOUND_HEADERS = new Set(['content-length', 'content-type']);
const BOUND_PART_HEADERS = new Set(['content-length']);

export function createS3Uploader(config: S3StoreConfig): S3Uploader {
  const client = createS3Client(config, S3_PROFILES.transfer);
  const at = (key: string) => locateObject(config, key);
  const call = async <T>(operation: () => Promise<T>): Promise<T> => {
    try {
      return await operation();
    } catch (error) {
      throw storageUnavailable(error);
    }
  };
  return {
    async sizeOf(key) {
      try {
        const head = await client.send(new HeadObjectCommand(at(key)));
        return head.ContentLength ?? 0;
      } catch (error) {
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status === 404 && (error as { name?: string }).name !== 'NoSuchBucket') return null;
        throw storageUnavailable(error);
      }
    },
    presignPut: (key, size, contentType, ttlSeconds) =>
      getSignedUrl(client, new PutObjectCommand({ ...at(key), ContentLength: size, ContentType: contentType }), {
        expiresIn: ttlSeconds,
        signableHeaders: BOUND_HEADERS,
      }),
    async createMultipart(key, contentType) {
      const created = await call(() => client.send(new CreateMultipartUploadCommand({ ...at(key), ContentType: contentType })));
      if (created.UploadId === undefined) throw storageUnavailable(new Error('CreateMultipartUpload returned no UploadId'));
      return created.UploadId;
    },
    presignPart: (key, uploadId, partNumber, size, ttlSeconds) =>
      getSignedUrl(client, new UploadPartCommand({ ...at(key), UploadId: uploadId, PartNumber: partNumber, ContentLength: size }), {
        expiresIn: ttlSeconds,
        signableHeaders: BOUND_PART_HEADERS,
      }),
    async complete(key, uploadId, parts) {
      await call(() =>
        client.send(
          new CompleteMultipartUploadCommand({
            ...at(key),
            UploadId: uploadId,
            MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
          }),
        ),
      );
    },
    async abort(key, uploadId) {
      await call(() => client.send(new AbortMultipartUploadCommand({ ...at(key), UploadId: uploadId })));
    },
    async remove(key) {
      await call(() => client.send(new DeleteObjectCommand(at(key))));
    },
    async uploadStream(key, body, contentType, signal) {
      const upload = new Upload({ client, params: { ...at(key), Body: body, ContentType: contentType }, partSize: STREAM_PART_BYTES, queueSize: STREAM_QUEUE, leavePartsOnError: false });
      const abort = (): void => void upload.abort().catch(() => undefined);
      signal?.addEventListener('abort', abort, { once: true });
      try {
        await upload.done();
      } finally {
        signal?.removeEventListener('abort', abort);
      }
    },
  };
}
