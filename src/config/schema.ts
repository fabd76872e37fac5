// The one description of Sluice's settings. Everything else reads the typed result.
import { z } from 'zod';
import { templateProblems } from './dynamic-bucket.js';
import { policySchema, ruleSchema } from './policy-schema.js';
import { resultStoreIssues } from './result-store-check.js';
import { sharingSchema } from './sharing-schema.js';
import { transformSchema } from './transform-schema.js';
import { workerSchema } from './worker-schema.js';
import { opsSchema } from './ops-schema.js';
import { uploadsSchema } from './uploads-schema.js';
import { encryptionSchema } from './encryption-schema.js';
import { decisionCacheSchema } from './decision-cache-schema.js';
import { envNameFor } from './errors.js';
import { redisSchema } from './redis-schema.js';

export const storeName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'store names are lowercase letters, digits, "-" or "_"');

const cacheControl = z.string().min(1).default('private, no-store').describe('Cache-Control of successful downloads');
/** An absolute path nginx takes in a directive as it is. */
const nginxPath = z.string().regex(/^\/[^$"'{};\\\s]*$/, 'an absolute path without spaces, quotes, braces, ";", "$" or "\\"');
/** Objects are stored as chunked AEAD ciphertext; the worker tier encrypts and decrypts (see src/crypto). */
const encrypted = z.boolean().default(false).describe('the store holds only ciphertext (encryption at rest); delivery must be `nginx`');
/** Repeated requests skip the round trip to the app (docs/nginx.md "Decision cache"). */
const decisionCache = decisionCacheSchema(
  "nginx reuses the app's allow decisions for up to this long (the revocation window); 0 = off, every request is decided by the app",
).optional();

const DELIVERY =
  '`nginx`: X-Accel-Redirect, nginx sends the bytes; `redirect` (s3 only): 302 to a presigned URL; `stream`: the app streams the bytes (nginx.md, *Delivery modes*)';

const fsStoreSchema = z.strictObject({
  type: z.literal('fs').describe('`fs` (a directory) or `s3` (a bucket); store names: lowercase letters, digits, `-`, `_`'),
  root: z.string({ error: 'root directory is required' }).min(1, 'root directory is required').describe('directory holding the files; must exist at start-up'),
  delivery: z.enum(['nginx', 'stream']).default('nginx').describe(DELIVERY),
  cacheControl,
  encrypted,
  decisionCache,
});

const s3StoreSchema = z.strictObject({
  type: z.literal('s3'),
  bucket: z.string({ error: 'bucket is required' }).min(1, 'bucket is required').describe('bucket name'),
  endpoint: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe('custom endpoint (MinIO, Ceph RGW, Swift s3api…); unset = AWS'),
  region: z.string().min(1).default('us-east-1').describe('region the requests are signed for'),
  forcePathStyle: z.boolean().default(false).describe('path-style addressing (most non-AWS servers; required with `bucketTemplate`)'),
  accessKeyId: z
    .string()
    .min(1)
    .optional()
    .describe('explicit credentials, with `secretAccessKey`; unset = the AWS chain (environment, profile, instance role)'),
  secretAccessKey: z.string().min(1).optional().describe('the secret of `accessKeyId`'),
  /** nginx consumes presigned URLs at once, so short is safe. */
  presignTtlSeconds: z
    .number()
    .int()
    .min(1)
    .max(3600)
    .default(60)
    .describe('lifetime of presigned URLs (in `redirect` mode: how long the link the client gets stays usable)'),
  /** See src/config/dynamic-bucket.ts. */
  bucketTemplate: z
    .string()
    .min(1)
    .optional()
    .describe('dynamic per-period buckets, e.g. `media-<year>-<month>-<suffix>`; keys `<period>/…` live there (operations.md, *Dynamic buckets*)'),
  bucketSecret: z.string().min(32, 'bucketSecret must be at least 32 characters').optional().describe('HMAC secret behind `<suffix>` (at least 32 characters)'),
  delivery: z.enum(['nginx', 'redirect', 'stream']).default('nginx').describe(DELIVERY),
  cacheControl,
  encrypted,
  decisionCache,
});

export const storeSchema = z.discriminatedUnion('type', [fsStoreSchema, s3StoreSchema]);

const jwtKeySchema = z
  .strictObject({
    kid: z.string().min(1).optional().describe('key id; a token naming a `kid` is verified by that key only'),
    /** Pinned so a token cannot choose its own algorithm. */
    algorithms: z
      .array(z.enum(['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']))
      .min(1)
      .describe('algorithms this key may verify (pinned per key)'),
    secret: z
      .string()
      .min(32, 'HMAC secrets must be at least 32 characters')
      .optional()
      .describe('shared secret for HS* (at least 32 characters); exactly one of `secret`, `publicKey`, `jwksUrl`'),
    publicKey: z.string().min(1).optional().describe('PEM public key (SPKI) for RS/PS/ES/EdDSA'),
    jwksUrl: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe('JWKS URL for RS/PS/ES/EdDSA (cached; unreachable → 503, fail closed)'),
  })
  .superRefine((key, ctx) => {
    const sources = [key.secret, key.publicKey, key.jwksUrl].filter((v) => v !== undefined);
    if (sources.length !== 1) {
      ctx.addIssue({ code: 'custom', message: 'set exactly one of secret, publicKey, jwksUrl' });
      return;
    }
    const hmac = key.algorithms.filter((a) => a.startsWith('HS'));
    if (key.secret !== undefined && hmac.length !== key.algorithms.length) {
      ctx.addIssue({ code: 'custom', path: ['algorithms'], message: 'a secret may only verify HS256/HS384/HS512' });
    }
    if (key.secret === undefined && hmac.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['algorithms'], message: 'HS* algorithms need a secret, not a public key' });
    }
  });

export const authSchema = z.strictObject({
  keys: z.array(jwtKeySchema).default([]).describe('keys that verify tokens (`SLUICE_JWT_SECRET` sets one HS256 key)'),
  cookieName: z
    .string()
    .regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/)
    .optional()
    .describe('also accept the token from this cookie (the `Authorization: Bearer` header wins)'),
  issuer: z.string().min(1).optional().describe('required `iss` claim, checked when set'),
  audience: z.string().min(1).optional().describe('required `aud` claim, checked when set'),
  clockToleranceSeconds: z.number().int().min(0).max(300).default(30).describe('allowed clock skew for `exp`/`nbf`'),
  maxTokenBytes: z.number().int().min(256).max(65536).default(8192).describe('larger tokens are refused before any parsing'),
  maxTokenLifetimeSeconds: z
    .number()
    .int()
    .min(60)
    .max(10 * 366 * 86_400)
    .optional()
    .describe(
      'refuse tokens whose `exp` lies further ahead than this (bounds how long a stolen token lives and how long revocations are kept); unset = any `exp`',
    ),
});

export const configSchema = z
  .strictObject({
    host: z.string().min(1).default('127.0.0.1').describe("nginx's listen address in `sluice dev` and the rendered full config (`0.0.0.0` to be public)"),
    /**
     * The app's own listen address, loopback by default: the app trusts X-Original-URI on its
     * auth_request endpoint, answers raw X-Accel-Redirect/X-Sluice-* and serves /metrics, so only
     * nginx may reach it. A non-loopback address logs a warning at start-up.
     */
    appHost: z
      .string()
      .min(1)
      .default('127.0.0.1')
      .describe(
        "the app's own listen address and the rendered `upstream sluice_app`; keep it loopback — the app port trusts `X-Original-URI`, answers raw `X-Accel-Redirect`/`X-Sluice-*` and serves `/metrics`. Any other address logs a start-up warning",
      ),
    port: z.number().int().min(1).max(65535).default(8080).describe('public port: where nginx listens in `sluice dev` and the rendered full config'),
    appPort: z
      .number()
      .int()
      .min(0)
      .max(65535)
      .default(3000)
      .describe('port of the Sluice app itself (nginx proxies to it); 0 = any free port. `sluice dev` uses 0 unless this is set'),
    prefix: z
      .string()
      .regex(/^\/[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/, 'prefix must look like /files')
      .default('/files')
      .describe('download routes: `GET|HEAD <prefix>/<store>/<key…>`'),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('pino log level'),
    stores: z.record(storeName, storeSchema).refine((s) => Object.keys(s).length > 0, 'configure at least one store'),
    auth: authSchema.default(authSchema.parse({})),
    rules: z.array(ruleSchema).default([]).describe('the ordered rule list: the first rule that applies decides; no rule = denied (authorization.md)'),
    /** Roles claim, plugins, webhook and decision cache of the authorization engine. */
    policy: policySchema,
    redisUrl: z
      .url({ protocol: /^rediss?$/ })
      .optional()
      .describe(
        'shared state for every instance: decision cache, revocations, one-time links, rate limits, upload reservations; unset = in memory (one instance). Shorthand for `redis.url`; for Sentinel or Cluster use `redis`',
      ),
    redis: redisSchema.optional().describe('shared state in Redis: `{url}`, `{sentinels, name}` or `{nodes}` (Cluster); not together with `redisUrl`'),
    sharing: sharingSchema,
    transform: transformSchema,
    worker: workerSchema,
    ops: opsSchema,
    uploads: uploadsSchema,
    encryption: encryptionSchema,
    nginx: z
      .strictObject({
        internalPrefix: z
          .string()
          .regex(/^\/[A-Za-z0-9_-]+$/)
          .default('/_sluice')
          .describe("prefix of nginx's internal locations (never reachable from outside)"),
        /** Where nginx keeps allow decisions of stores with decisionCache on (docs/nginx.md "Decision cache"). */
        decisionCache: z
          .strictObject({
            path: nginxPath
              .default('/var/cache/nginx/sluice-decisions')
              .describe("`proxy_cache_path` directory of the decision cache (absolute; readable by nginx's workers only)"),
            zoneSize: z
              .string()
              .regex(/^[1-9][0-9]*[km]$/, 'a size such as 10m or 512k')
              .default('10m')
              .describe('`keys_zone` size (1m holds about 8000 decisions)'),
            auditLog: nginxPath
              .default('/var/log/nginx/sluice-audit.log')
              .describe('JSON audit log of every decision nginx applies, cache hits included (`--full`: `sluice-audit.log` in the runtime directory)'),
            /** A write(2) per line costs nginx more than the rest of a cache hit's logging. */
            auditLogBuffer: z
              .string()
              .regex(/^(?:off|0|[1-9][0-9]*[km])$/, 'a size such as 64k or 1m, or off')
              .default('64k')
              .describe(
                'nginx buffers audit lines up to this size per worker (`off` or `0`: one write per line). A crash of nginx loses at most the unflushed lines; a reload, log reopen or shutdown flushes them',
              ),
            auditLogFlushSeconds: z
              .number()
              .int()
              .min(1)
              .max(60)
              .default(1)
              .describe('buffered audit lines reach the file at most this many seconds after they were written (ignored when `auditLogBuffer` is off)'),
          })
          .prefault({}),
      })
      .prefault({}),
  })
  .superRefine((config, ctx) => {
    if (config.redisUrl !== undefined && config.redis !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['redis'], message: `set redisUrl (${envNameFor(['redisUrl'])}) or redis, not both` });
    }
    for (const [index, rule] of config.rules.entries()) {
      if (rule.store !== '*' && !(rule.store in config.stores)) {
        ctx.addIssue({ code: 'custom', path: ['rules', index, 'store'], message: `unknown store "${rule.store}"` });
      }
    }
    for (const [name, store] of Object.entries(config.stores)) {
      if (store.type === 's3' && (store.accessKeyId === undefined) !== (store.secretAccessKey === undefined)) {
        ctx.addIssue({ code: 'custom', path: ['stores', name, 'secretAccessKey'], message: 'set both accessKeyId and secretAccessKey, or neither' });
      }
      // Decryption happens in the worker tier behind nginx, never in the app or at the client.
      if (store.encrypted && store.delivery !== 'nginx') {
        ctx.addIssue({
          code: 'custom',
          path: ['stores', name, 'delivery'],
          message: 'encrypted stores are delivered through nginx and the worker (delivery: nginx)',
        });
      }
      if ((store.decisionCache?.ttlSeconds ?? 0) > 0) {
        // Encrypted stores are read by the worker; redirect/stream answers are the app's own.
        if (store.encrypted)
          ctx.addIssue({
            code: 'custom',
            path: ['stores', name, 'decisionCache'],
            message: 'encrypted stores are not served from the decision cache (their bytes go through the worker)',
          });
        else if (store.delivery !== 'nginx')
          ctx.addIssue({ code: 'custom', path: ['stores', name, 'decisionCache'], message: 'the decision cache needs delivery: nginx' });
      }
      if (store.type === 's3' && store.bucketTemplate !== undefined) {
        for (const message of templateProblems(store.bucketTemplate, store.bucketSecret)) {
          ctx.addIssue({ code: 'custom', path: ['stores', name, 'bucketTemplate'], message });
        }
        // Path-style keeps one host for every bucket, so nginx's fixed upstream still fits.
        if (!store.forcePathStyle)
          ctx.addIssue({ code: 'custom', path: ['stores', name, 'forcePathStyle'], message: 'dynamic buckets need forcePathStyle: true' });
      }
    }
    const local = config.transform.localStore;
    if (local !== undefined && config.stores[local]?.type !== 'fs') {
      ctx.addIssue({ code: 'custom', path: ['transform', 'localStore'], message: `"${local}" is not a configured fs store` });
    }
    for (const issue of resultStoreIssues(config)) ctx.addIssue({ code: 'custom', ...issue });
  });

export type SluiceConfig = z.infer<typeof configSchema>;
export type StoreConfig = z.infer<typeof storeSchema>;
export type FsStoreConfig = z.infer<typeof fsStoreSchema>;
export type S3StoreConfig = z.infer<typeof s3StoreSchema>;
export type AuthConfig = z.infer<typeof authSchema>;
export type JwtKeyConfig = z.infer<typeof jwtKeySchema>;
export type { Action, ConditionConfig, RuleConfig } from './policy-schema.js';
export type DeliveryMode = 'nginx' | 'redirect' | 'stream';
