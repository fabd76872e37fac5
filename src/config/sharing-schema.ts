// Share links, revocation, rate limits and the nginx auth_request endpoint.
import { z } from 'zod';

const linkKeySchema = z.strictObject({
  kid: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'kid: 1-64 letters, digits, ".", "_" or "-"')
    .describe("written into every link's header; verification picks the key by it"),
  secret: z.string().min(32, 'link secrets must be at least 32 characters').describe('HS256 secret (at least 32 characters, not an `auth.keys` secret)'),
});

/** Who may revoke any link, any subject's links and any token: a claim that contains a value. */
const adminSchema = z.strictObject({
  claim: z.string().min(1).describe("callers whose claim contains `value` may revoke any link, any subject's links and any token"),
  value: z.string().min(1).describe('array member, equal string, or one word of a space-separated scope'),
});

const rateLimitSchema = z
  .strictObject({
    requestsPerSecond: z
      .number()
      .positive()
      .max(100_000)
      .describe(
        'token bucket per subject (the `sub`, the share link, or the client address when anonymous); over it → 429 with `Retry-After`; unset `rateLimit` = off',
      ),
    burst: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .optional()
      .meta({ docDefault: '⌈`requestsPerSecond`⌉', description: 'bucket size: requests allowed at once before the rate applies' }),
  })
  .transform((limit) => ({ requestsPerSecond: limit.requestsPerSecond, burst: limit.burst ?? Math.ceil(limit.requestsPerSecond) }));

/** URL path prefixes nginx protects with auth_request, each mapped to the store whose rules apply. */
const locationPath = z.string().regex(/^\/[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/, 'a path such as /protected');

export const sharingSchema = z
  .strictObject({
    keys: z
      .array(linkKeySchema)
      .default([])
      .refine((keys) => new Set(keys.map((k) => k.kid)).size === keys.length, 'kids must be unique')
      .describe(
        'share-link signing keys: the first signs, all verify (rotate: add the new key second, move it first, drop the old one once its links expired); none = no share API, every `?share=` is 401',
      ),
    maxExpiresInSeconds: z.number().int().min(1).max(31_536_000).default(604_800).describe('longest lifetime a link may ask for'),
    admin: adminSchema.optional(),
    tokenRevocationSeconds: z
      .number()
      .int()
      .min(60)
      .max(31_536_000)
      .default(86_400)
      .describe("how long an admin's revocation of someone else's token `jti` is kept (≥ your longest token lifetime)"),
    authRequest: z
      .strictObject({
        locations: z
          .record(locationPath, z.string().min(1))
          .default({})
          .describe(
            'URL prefix → store, e.g. `{"/protected": "docs"}`: locations nginx serves itself and protects with `auth_request` (sharing.md, *nginx auth_request*)',
          ),
      })
      .prefault({}),
    /** Per-subject request rate limit; off when absent. */
    rateLimit: rateLimitSchema.optional(),
  })
  .prefault({});

export type SharingConfig = z.infer<typeof sharingSchema>;
export type RateLimitConfig = NonNullable<SharingConfig['rateLimit']>;
