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

/**
 * One interface for every kind of storage (ActiveStorage's Service): callers never branch on
 * the kind, only on the delivery mode the operator chose.
 */
export interface Store {
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
