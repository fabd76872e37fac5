import type { Readable } from 'node:stream';
import type { DeliveryMode } from '../config/schema.js';

/** A key that passed canonicalization: the exact key used for the decision AND the byte fetch. */
export interface CanonicalKey {
  /** Decoded segments, each non-empty, never "." or "..", no "/" "\\" or control characters. */
  readonly segments: readonly string[];
  /** segments.join('/') */
  readonly value: string;
}

export interface ObjectInfo {
  readonly size: number;
  readonly etag?: string;
  readonly lastModified?: Date;
}

/** Inclusive byte range, as in HTTP. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export type ReadMethod = 'GET' | 'HEAD';

/** Response headers the storage itself should send (redirect mode: the client talks to S3). */
export interface ResponseOverrides {
  readonly contentType?: string;
  readonly contentDisposition?: string;
  readonly cacheControl?: string;
}

/** Where nginx should go for the bytes: the internal location and the private headers it reads. */
export interface AccelTarget {
  readonly location: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** The stored object as a writer sees it: what a copy is verified against, what write-once checks. */
export interface ObjectHead {
  readonly size: number;
  /** s3: the ETag; fs: a weak validator from mtime and size. */
  readonly etag: string | null;
  readonly lastModified: Date | null;
  /** User metadata (s3 `x-amz-meta-*`); fs stores keep none. */
  readonly metadata: Readonly<Record<string, string>>;
}

/** Bytes in memory (s3: one PutObject) or a stream of unknown length (s3: multipart when large). */
export type PutBody = Uint8Array | Readable;

export interface PutOptions {
  readonly contentType: string;
  /** Kept as s3 user metadata; fs stores drop it. */
  readonly metadata?: Readonly<Record<string, string>>;
  /**
   * `create`: write-once, an existing key is a 409 (fs: link(), atomic; s3: HeadObject first, so
   * callers that race hold a reservation). `replace`: swap the object in one step (fs: rename()).
   */
  readonly mode: 'create' | 'replace';
  /** Aborts the write; nothing is left at the key. */
  readonly signal?: AbortSignal;
}

export interface CompletedPart {
  readonly partNumber: number;
  readonly etag: string;
}

/**
 * s3: the client sends the bytes straight to presigned URLs (ActiveStorage's
 * url_for_direct_upload): one PutObject, or one URL per part of a multipart upload. Length and
 * type are bound into the signature.
 */
export interface PresignedUpload {
  readonly via: 'presigned-url';
  presignPut(key: CanonicalKey, size: number, contentType: string, ttlSeconds: number): Promise<string>;
  /** Starts a multipart upload; resolves to the backend's upload id. */
  createMultipart(key: CanonicalKey, contentType: string): Promise<string>;
  presignPart(key: CanonicalKey, uploadId: string, partNumber: number, size: number, ttlSeconds: number): Promise<string>;
  completeMultipart(key: CanonicalKey, uploadId: string, parts: readonly CompletedPart[]): Promise<void>;
  abortMultipart(key: CanonicalKey, uploadId: string): Promise<void>;
}

/**
 * fs: nginx writes the request body to a temp file in the store's upload temp dir (same
 * filesystem), and the app adopts that file as the object, write-once, never seeing the bytes.
 */
export interface NginxBodyUpload {
  readonly via: 'nginx-body-file';
  /** Links `bodyFile` (which must lie in the upload temp dir) to `key`; resolves to its size. 413 above `maxBytes`. */
  adopt(key: CanonicalKey, bodyFile: string, maxBytes: number): Promise<number>;
}

/** Encrypted stores: plaintext never goes to the storage directly (the worker encrypts and puts). */
export interface NoDirectUpload {
  readonly via: 'none';
}

export type DirectUpload = PresignedUpload | NginxBodyUpload | NoDirectUpload;

/** The write side of a store: every writer (uploads, the worker, migrate, reencrypt) goes through it. */
export interface StoreWrites {
  /** The stored object, or null when there is none. */
  head(key: CanonicalKey): Promise<ObjectHead | null>;
  put(key: CanonicalKey, body: PutBody, options: PutOptions): Promise<void>;
  /** Removes the object; a missing one is not an error. */
  delete(key: CanonicalKey): Promise<void>;
  readonly directUpload: DirectUpload;
}

/**
 * One interface for every kind of storage (ActiveStorage's Service), for reads and writes:
 * callers never branch on the kind, only on the delivery mode the operator chose.
 */
export interface Store extends StoreWrites {
  readonly name: string;
  readonly kind: 'fs' | 's3';
  /** Objects are stored as ciphertext (config `encrypted`): only the worker tier reads their bytes. */
  readonly encrypted: boolean;
  readonly delivery: DeliveryMode;
  readonly cacheControl: string;
  /** nginx mode: internal redirect target for this key. */
  accelTarget(key: CanonicalKey, method: ReadMethod): Promise<AccelTarget>;
  /** redirect mode: a short-lived URL the client may fetch itself. */
  presignedUrl(key: CanonicalKey, method: ReadMethod, overrides?: ResponseOverrides): Promise<string>;
  /** stream mode: metadata, or null when the object does not exist. */
  stat(key: CanonicalKey): Promise<ObjectInfo | null>;
  /** stream mode: the bytes (a range of them when given). */
  read(key: CanonicalKey, range?: ByteRange): Promise<Readable>;
  /** Readiness: resolves when the store is reachable. */
  check(): Promise<void>;
}
