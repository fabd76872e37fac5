// Upload orchestration for S3 stores. Write-once: POST reserves "<store>/<key>" with SET NX
// (TTL = URL lifetime + margin). A multipart upload makes the reservation permanent when it
// completes; a single PUT's reservation simply expires, after which HeadObject (the object
// exists) refuses the key. Multipart state lives in the same store under a random id, bound to
// the subject that started it.
import { randomBytes } from 'node:crypto';
import type { UploadsConfig } from '../config/uploads-schema.js';
import { PublicError } from '../errors.js';
import { storedKey } from '../storage/key.js';
import type { CompletedPart, PresignedUpload, StoreWrites } from '../storage/types.js';
import { planParts, type UploadRequest } from './request.js';
import type { ReservationStore } from './reservations.js';

/** Slack after a URL's expiry before a pending reservation lapses (clock skew, slow last bytes). */
const RESERVATION_MARGIN_SECONDS = 60;

/** How long a planned-but-unfinished upload holds its key (also for streamed encrypted uploads). */
export function pendingReservationSeconds(config: UploadsConfig): number {
  return config.urlTtlSeconds + RESERVATION_MARGIN_SECONDS;
}

export type UploadPlan =
  | { readonly method: 'PUT'; readonly url: string; readonly headers: Record<string, string>; readonly expiresAt: string }
  | {
      readonly uploadId: string;
      readonly method: 'PUT';
      readonly partSize: number;
      readonly parts: readonly { partNumber: number; size: number; url: string }[];
      readonly expiresAt: string;
    };

interface MultipartRecord {
  readonly store: string;
  readonly key: string;
  readonly s3UploadId: string;
  readonly subject: string;
  readonly size: number;
  readonly parts: number;
}

/** What planning and completing touch of a store: its objects, and its presigned URLs. */
export type UploadTarget = Pick<StoreWrites, 'head' | 'delete' | 'directUpload'>;

export interface UploadService {
  plan(request: UploadRequest, target: UploadTarget, subject: string): Promise<UploadPlan>;
  complete(
    id: string,
    parts: readonly CompletedPart[],
    subject: string,
    targetFor: (store: string) => UploadTarget,
  ): Promise<{ store: string; key: string; size: number }>;
  abort(id: string, subject: string, targetFor: (store: string) => UploadTarget): Promise<void>;
}

function presignedOf(target: UploadTarget): PresignedUpload {
  if (target.directUpload.via !== 'presigned-url') throw new PublicError(400, 'this store takes no presigned uploads');
  return target.directUpload;
}

export function createUploadService(config: UploadsConfig, reservations: ReservationStore, now: () => number = Date.now): UploadService {
  const ttl = config.urlTtlSeconds;
  const pendingTtl = pendingReservationSeconds(config);
  const expiresAt = (): string => new Date(now() + ttl * 1000).toISOString();

  const record = async (id: string, subject: string): Promise<MultipartRecord> => {
    const value = await reservations.get(`mp:${id}`);
    const found = value === null ? null : (JSON.parse(value) as MultipartRecord);
    // Someone else's upload id is as unknown as a made-up one.
    if (found === null || found.subject !== subject) throw new PublicError(404, 'unknown upload');
    return found;
  };

  return {
    async plan(request, store, subject) {
      const presigned = presignedOf(store);
      const target = `key:${request.store}/${request.key.value}`;
      if (!(await reservations.reserve(target, subject, pendingTtl))) throw new PublicError(409, 'key already written');
      try {
        if ((await store.head(request.key)) !== null) {
          await reservations.set(target, subject, null);
          throw new PublicError(409, 'key already written');
        }
        if (request.size <= config.multipartThresholdBytes) {
          const url = await presigned.presignPut(request.key, request.size, request.contentType, ttl);
          return { method: 'PUT', url, headers: { 'Content-Type': request.contentType }, expiresAt: expiresAt() };
        }
        const s3UploadId = await presigned.createMultipart(request.key, request.contentType);
        const id = randomBytes(16).toString('base64url');
        const parts = planParts(request.size, config.partSizeBytes);
        const entry: MultipartRecord = { store: request.store, key: request.key.value, s3UploadId, subject, size: request.size, parts: parts.length };
        await reservations.set(`mp:${id}`, JSON.stringify(entry), pendingTtl);
        const urls = await Promise.all(parts.map((p) => presigned.presignPart(request.key, s3UploadId, p.partNumber, p.size, ttl)));
        return {
          uploadId: id,
          method: 'PUT',
          partSize: config.partSizeBytes,
          parts: parts.map((p, i) => ({ ...p, url: urls[i] as string })),
          expiresAt: expiresAt(),
        };
      } catch (error) {
        // A refusal for an existing object keeps the (now permanent) reservation; anything else frees the key.
        if (!(error instanceof PublicError && error.status === 409)) await reservations.release(target).catch(() => undefined);
        throw error;
      }
    },

    async complete(id, parts, subject, targetFor) {
      const entry = await record(id, subject);
      if (parts.length !== entry.parts || parts.some((p, i) => p.partNumber !== i + 1)) {
        throw new PublicError(422, 'parts do not match the plan');
      }
      const store = targetFor(entry.store);
      const key = storedKey(entry.key);
      try {
        await presignedOf(store).completeMultipart(key, entry.s3UploadId, parts);
      } catch (error) {
        // S3 answers 400 (InvalidPart / EntityTooSmall) for parts that are missing or wrong.
        const status = (error as { cause?: { $metadata?: { httpStatusCode?: number } } }).cause?.$metadata?.httpStatusCode;
        if (status === 400) throw new PublicError(422, 'parts do not match the upload', {}, error);
        throw error;
      }
      const size = (await store.head(key))?.size ?? null;
      await reservations.release(`mp:${id}`);
      if (size !== entry.size) {
        await store.delete(key);
        await reservations.release(`key:${entry.store}/${entry.key}`);
        throw new PublicError(422, 'uploaded size does not match');
      }
      await reservations.set(`key:${entry.store}/${entry.key}`, subject, null);
      return { store: entry.store, key: entry.key, size };
    },

    async abort(id, subject, targetFor) {
      const entry = await record(id, subject);
      await presignedOf(targetFor(entry.store)).abortMultipart(storedKey(entry.key), entry.s3UploadId);
      await reservations.release(`mp:${id}`);
      await reservations.release(`key:${entry.store}/${entry.key}`);
    },
  };
}
