// The body of POST <prefix>/_uploads, checked against the uploads settings.
import { z } from 'zod';
import type { UploadsConfig } from '../config/uploads-schema.js';
import { badRequest, PublicError } from '../errors.js';
import { canonicalizeKey } from '../storage/key.js';
import type { CanonicalKey } from '../storage/types.js';

export interface UploadRequest {
  readonly store: string;
  readonly key: CanonicalKey;
  readonly size: number;
  readonly contentType: string;
}

const MEDIA_TYPE = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/;

const bodySchema = z.strictObject({
  store: z.string().min(1),
  key: z.string().min(1),
  size: z.number().int().min(0),
  contentType: z.string().min(1).default('application/octet-stream'),
});

export function parseUploadRequest(body: unknown, config: UploadsConfig): UploadRequest {
  const parsed = bodySchema.safeParse(body);
  if (!parsed.success) throw badRequest('expected {store, key, size, contentType}');
  const { store, size } = parsed.data;
  // Same canonical spelling as downloads: each segment is percent-encoded, then parsed strictly.
  const key = canonicalizeKey(parsed.data.key.split('/').map(encodeURIComponent).join('/'));
  if (size > config.maxBytes) throw new PublicError(413, 'upload too large');
  const contentType = parsed.data.contentType.trim().toLowerCase();
  if (!MEDIA_TYPE.test(contentType)) throw new PublicError(415, 'invalid content type');
  if (config.allowedContentTypes !== undefined && !config.allowedContentTypes.includes(contentType)) {
    throw new PublicError(415, 'content type not allowed');
  }
  return { store, key, size, contentType };
}

export interface PartPlan {
  readonly partNumber: number;
  readonly size: number;
}

/** Parts of `partSize` bytes, the last one holding the rest. */
export function planParts(size: number, partSize: number): PartPlan[] {
  const parts: PartPlan[] = [];
  for (let offset = 0, n = 1; offset < size; offset += partSize, n++) {
    parts.push({ partNumber: n, size: Math.min(partSize, size - offset) });
  }
  return parts;
}
