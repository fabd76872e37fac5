// Share links, revocation, rate limits and the nginx auth_request endpoint.
import { z } from 'zod';

const linkKeySchema = z.strictObject({
  /** Written into every link's header; verification picks the key by it. */
  kid: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'kid: 1-64 letters, digits, ".", "_" or "-"'),
  /** HS256 secret (at least 32 characters). */
  secret: z.string().min(32, 'link secrets must be at least 32 characters'),
});

/** Who may revoke any link, any subject's links and any token: a claim that contains a value. */
const adminSchema = z.strictObject({
  claim: z.string().min(1),
  /** Array member, equal string, or one word of a space-separated scope. */
  value: z.string().min(1),
});

const rateLimitSchema = z
  .strictObject({
    /** Sustained rate per subject (or per client IP when anonymous). */
    requestsPerSecond: z.number().positive().max(100_000),
    /** Bucket size: requests allowed at once before the rate applies; default ceil(rate). */
    burst: z.number().int().min(1).max(1_000_000).optional(),
  })
  .transform((limit) => ({ requestsPerSecond: limit.requestsPerSecond, burst: limit.burst ?? Math.ceil(limit.requestsPerSecond) }));

/** URL path prefixes nginx protects with auth_request, each mapped to the store whose rules apply. */
const locationPath = z.string().regex(/^\/[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/, 'a path such as /protected');

export const sharingSchema = z
  .strictObject({
    /** Link signing keys: the first signs, all verify (rotation: prepend the new key, drop the old later). */
    keys: z
      .array(linkKeySchema)
      .default([])
      .refine((keys) => new Set(keys.map((k) => k.kid)).size === keys.length, 'kids must be unique'),
    /** Longest lifetime a link may ask for. */
    maxExpiresInSeconds: z.number().int().min(1).max(31_536_000).default(604_800),
    admin: adminSchema.optional(),
    /** How long an admin's revocation of a token jti is kept (≥ your longest token lifetime). */
    tokenRevocationSeconds: z.number().int().min(60).max(31_536_000).default(86_400),
    authRequest: z
      .strictObject({ locations: z.record(locationPath, z.string().min(1)).default({}) })
      .prefault({}),
    /** Per-subject request rate limit; off when absent. */
    rateLimit: rateLimitSchema.optional(),
  })
  .prefault({});

export type SharingConfig = z.infer<typeof sharingSchema>;
export type RateLimitConfig = NonNullable<SharingConfig['rateLimit']>;
