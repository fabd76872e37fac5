// Uploads (action `write`): presigned direct-to-S3 PUT or multipart, fs uploads offloaded to
// nginx; write-once per key.
import { z } from 'zod';

const MIB = 1024 * 1024;
/** S3's minimum part size (every part but the last) and its part-count limit. */
export const MIN_PART_BYTES = 5 * MIB;
export const MAX_PARTS = 10_000;

export const uploadsSchema = z
  .strictObject({
    enabled: z.boolean().default(false).describe('route the upload endpoints (uploads.md); every upload also needs a rule allowing `write`'),
    maxBytes: z
      .number()
      .int()
      .min(1)
      .default(5 * 1024 * MIB)
      .meta({ docDefault: '5 GiB', description: "largest object a client may announce (fs: nginx's `client_max_body_size`); larger → 413" }),
    allowedContentTypes: z
      .array(z.string().regex(/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/, 'a media type such as image/png'))
      .min(1)
      .optional()
      .meta({ docDefault: 'any', description: 'Content-Types S3 uploads may have (exact, lowercase, no parameters; signed); others → 415' }),
    urlTtlSeconds: z
      .number()
      .int()
      .min(10)
      .max(7 * 24 * 3600)
      .default(300)
      .describe('lifetime of presigned upload URLs (and of a pending reservation, plus 60 s)'),
    multipartThresholdBytes: z
      .number()
      .int()
      .min(MIN_PART_BYTES)
      .default(64 * MIB)
      .meta({ docDefault: '64 MiB', description: 'announced sizes above this get a multipart plan instead of one PUT' }),
    partSizeBytes: z
      .number()
      .int()
      .min(MIN_PART_BYTES)
      .max(5 * 1024 * MIB)
      .default(16 * MIB)
      .meta({ docDefault: '16 MiB', description: 'size of every part but the last (parts ≥ 5 MiB, at most 10,000 parts)' }),
    stores: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .meta({ docDefault: 'every store', description: 'stores that accept uploads (s3: presigned, fs: offloaded to nginx)' }),
  })
  .superRefine((uploads, ctx) => {
    if (Math.ceil(uploads.maxBytes / uploads.partSizeBytes) > MAX_PARTS) {
      ctx.addIssue({ code: 'custom', path: ['partSizeBytes'], message: `maxBytes / partSizeBytes must not exceed ${MAX_PARTS} parts` });
    }
  })
  .default({ enabled: false, maxBytes: 5 * 1024 * MIB, urlTtlSeconds: 300, multipartThresholdBytes: 64 * MIB, partSizeBytes: 16 * MIB });

export type UploadsConfig = z.infer<typeof uploadsSchema>;
