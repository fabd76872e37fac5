// The write side of an s3 store: HeadObject, PutObject for bodies in memory, a multipart upload
// (@aws-sdk/lib-storage) for streams, DeleteObject, and the presigned URLs of direct uploads
// (length and type bound into the SigV4 signature, which Swift s3api and AWS enforce). Objects
// are written private: no ACL header is ever set or signed. SDK failures become 502s whose
// cause keeps the SDK's error (ops reports print it).
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Readable } from 'node:stream';
import { PublicError, storageUnavailable } from '../errors.js';
import { isObjectMissing } from './s3-errors.js';
import type { CanonicalKey, ObjectHead, PresignedUpload, PutOptions, StoreWrites } from './types.js';

/** Where an object lives: its bucket and the key inside it (dynamic buckets map keys to buckets). */
export interface ObjectLocation {
  readonly Bucket: string;
  readonly Key: string;
}

/** Part size and parallel parts of streamed puts: bounds the memory of one upload (≈ 2 parts). */
const STREAM_PART_BYTES = 8 * 1024 * 1024;
const STREAM_QUEUE = 2;

/** Headers that must be signed so the client cannot change them. A part has no type of its own
 * (the object's is set at CreateMultipartUpload), and signing one would force the client to send it. */
const BOUND_HEADERS = new Set(['content-length', 'content-type']);
const BOUND_PART_HEADERS = new Set(['content-length']);

/**
 * `client` comes from createS3Client (s3-client.ts) with the profile the caller's work needs;
 * `locate` maps a stored key to its bucket (dynamic buckets). `presigned`: whether clients may
 * upload directly (never into an encrypted store).
 */
export function s3Writes(client: S3Client, locate: (key: string) => ObjectLocation, presigned: boolean): StoreWrites {
  const at = (key: CanonicalKey): ObjectLocation => locate(key.value);

  const head = async (key: CanonicalKey): Promise<ObjectHead | null> => {
    try {
      const found = await client.send(new HeadObjectCommand(at(key)));
      return { size: found.ContentLength ?? 0, etag: found.ETag ?? null, lastModified: found.LastModified ?? null, metadata: found.Metadata ?? {} };
    } catch (error) {
      if (isObjectMissing(error)) return null;
      throw storageUnavailable(error);
    }
  };

  return {
    head,

    async put(key, body, options) {
      // Not atomic against a racing writer: the upload routes hold a write-once reservation too.
      if (options.mode === 'create' && (await head(key)) !== null) throw new PublicError(409, 'key already written');
      const params = { ...at(key), ContentType: options.contentType, ...(options.metadata !== undefined && { Metadata: { ...options.metadata } }) };
      await guarded<unknown>(() =>
        body instanceof Uint8Array
          ? client.send(new PutObjectCommand({ ...params, Body: body, ContentLength: body.byteLength }), {
              ...(options.signal !== undefined && { abortSignal: options.signal }),
            })
          : streamed(client, params, body, options.signal),
      );
    },

    async delete(key) {
      await guarded(() => client.send(new DeleteObjectCommand(at(key))));
    },

    directUpload: presigned ? presignedUpload(client, at) : { via: 'none' },
  };
}

function presignedUpload(client: S3Client, at: (key: CanonicalKey) => ObjectLocation): PresignedUpload {
  return {
    via: 'presigned-url',
    presignPut: (key, size, contentType, ttlSeconds) =>
      getSignedUrl(client, new PutObjectCommand({ ...at(key), ContentLength: size, ContentType: contentType }), {
        expiresIn: ttlSeconds,
        signableHeaders: BOUND_HEADERS,
      }),
    async createMultipart(key, contentType) {
      const created = await guarded(() => client.send(new CreateMultipartUploadCommand({ ...at(key), ContentType: contentType })));
      if (created.UploadId === undefined) throw storageUnavailable(new Error('CreateMultipartUpload returned no UploadId'));
      return created.UploadId;
    },
    presignPart: (key, uploadId, partNumber, size, ttlSeconds) =>
      getSignedUrl(client, new UploadPartCommand({ ...at(key), UploadId: uploadId, PartNumber: partNumber, ContentLength: size }), {
        expiresIn: ttlSeconds,
        signableHeaders: BOUND_PART_HEADERS,
      }),
    async completeMultipart(key, uploadId, parts) {
      await guarded(() =>
        client.send(
          new CompleteMultipartUploadCommand({
            ...at(key),
            UploadId: uploadId,
            MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
          }),
        ),
      );
    },
    async abortMultipart(key, uploadId) {
      await guarded(() => client.send(new AbortMultipartUploadCommand({ ...at(key), UploadId: uploadId })));
    },
  };
}

/** A body of unknown length: one PutObject when it fits a part, else multipart (parts left behind are aborted). */
async function streamed(client: S3Client, params: ObjectLocation & { ContentType: string }, body: Readable, signal: PutOptions['signal']): Promise<void> {
  const upload = new Upload({ client, params: { ...params, Body: body }, partSize: STREAM_PART_BYTES, queueSize: STREAM_QUEUE, leavePartsOnError: false });
  const abort = (): void => void upload.abort().catch(() => undefined);
  signal?.addEventListener('abort', abort, { once: true });
  try {
    await upload.done();
  } finally {
    signal?.removeEventListener('abort', abort);
  }
}

/** A refusal of our own (e.g. the body's size limit, raised inside the stream) passes unchanged. */
async function guarded<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw error instanceof PublicError ? error : storageUnavailable(error);
  }
}
