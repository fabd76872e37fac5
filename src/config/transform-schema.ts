// Image transform URLs: imgproxy-compatible signing, presets, allowed options.
import { z } from 'zod';
import { resolveOptionName } from '../transform/options/table.js';
import { presetProblems } from '../transform/presets.js';
import { commaList } from './comma-list.js';
import { decisionCacheSchema } from './decision-cache-schema.js';

const hexString = z.string({ error: 'a hex string' }).regex(/^(?:[0-9a-fA-F]{2})+$/, 'must be a non-empty hex string with an even number of digits');

/** One value, a comma-separated list (imgproxy's IMGPROXY_KEYS style) or an array. */
const hexList = commaList(hexString, 'a hex string or a list of them');

const urlPrefix = z.string().regex(/^\/[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/, 'a URL prefix such as /img');

/** Preset names appear in URLs (`preset:name`, `pr:a:b`): no separators allowed. */
const presetName = z.string().regex(/^[A-Za-z0-9_-]+$/, 'preset names are letters, digits, "-" or "_"');

/** Object names under the store: relative, plain segments, ending in "/". */
const resultPrefix = z
  .string()
  .regex(/^(?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)*$/, 'a relative prefix of plain segments ending in "/", such as results/')
  .refine((p) => !p.split('/').includes('..'), 'must not contain ".."');

const resultStoreSchema = z.strictObject({
  store: z.string().min(1).describe('name of a store in `stores` (s3, or fs on a mount every node shares); not encrypted, and no rule should reach it'),
  prefix: resultPrefix.default('results/').describe('where results go in that store: `<prefix><2 hex>/<64 hex>`; `sluice results prune` only looks here'),
});

export const transformSchema = z
  .strictObject({
    enabled: z.boolean().default(false).describe('route both image URL forms; off = neither is routed'),
    keys: hexList.default([]).meta({
      docType: 'hex string, comma-separated hex strings, or a list',
      description: 'imgproxy keys, one per salt; every pair is tried (rotation without downtime). Digit-only hex in the environment stays hex',
    }),
    salts: hexList.default([]).meta({ docType: 'hex string, comma-separated hex strings, or a list', description: 'imgproxy salts, one per key' }),
    signatureSize: z.number().int().min(1).max(32).default(32).describe("bytes of the HMAC kept in the signature (imgproxy's IMGPROXY_SIGNATURE_SIZE)"),
    unsafeUnsigned: z.boolean().default(false).describe('accept imgproxy URLs without a signature when no keys are set (development only)'),
    presets: z
      .record(presetName, z.string().min(1, 'a preset needs at least one option'))
      .default({})
      .describe('name → option string (`rs:fill:200:200/q:70`); `default` applies to every request first (transforms.md, *Presets*)'),
    onlyPresets: z.boolean().default(false).describe('imgproxy\'s "only presets" mode: URLs name presets only, never raw options'),
    allowedOptions: z
      .array(z.string().min(1))
      .optional()
      .meta({ docDefault: 'every option', description: 'URL options outside this list → 404 (options inside presets are always allowed)' }),
    localStore: z.string().min(1).optional().describe('the fs store `local:///<path>` sources are read from (must exist); unset = local sources are refused'),
    imgproxyPrefix: urlPrefix.default('/img').describe('route of the imgproxy-compatible form: `<prefix>/<signature>/<options>/<source>`'),
    nativePrefix: urlPrefix.default('/images').describe('route of the Sluice-native form: `<prefix>/<store>/<key…>?<option>=<args>`'),
    allowedSources: z.array(z.string().min(1)).optional().meta({
      docDefault: 'every configured source',
      description: "imgproxy's IMGPROXY_ALLOWED_SOURCES: source URL prefixes (`local://`, `s3://media/`; `*` = within one segment) a signed URL may name",
    }),
    ttl: z
      .number()
      .int()
      .min(0)
      .max(31_536_000 * 10)
      .optional()
      .describe(
        "imgproxy's IMGPROXY_TTL: results get `Cache-Control: private, max-age=<ttl>`, capped by the URL's `expires:`; unset = the source store's `cacheControl`",
      ),
    publicCache: z.boolean().default(false).describe('with `ttl`: `public` (shared caches may keep results) instead of `private`'),
    /**
     * nginx reuses the app's allow decisions for image URLs (both forms) for up to ttlSeconds,
     * ticket included (docs/nginx.md "Decision cache"). 0 (the default) = off: every image request is
     * decided by the app. Independent of the stores' own decisionCache (downloads).
     */
    resultStore: resultStoreSchema
      .optional()
      .describe(
        'shared result store: finished results are kept in this store so other nodes serve them instead of rendering again (transforms.md, *Shared result store*); unset = each nginx caches its own',
      ),
    decisionCache: decisionCacheSchema(
      "nginx reuses the app's allow decisions for image URLs (both forms), ticket included, for up to this long; 0 = off. Independent of the stores' `decisionCache`",
    ).prefault({}),
  })
  .superRefine((config, ctx) => {
    if (config.enabled && config.keys.length === 0 && !config.unsafeUnsigned) {
      ctx.addIssue({ code: 'custom', path: ['keys'], message: 'set keys/salts or transform.unsafeUnsigned' });
    }
    if (config.keys.length !== config.salts.length) {
      ctx.addIssue({ code: 'custom', path: ['salts'], message: `one salt per key is required (${config.keys.length} keys, ${config.salts.length} salts)` });
    }
    if (config.imgproxyPrefix === config.nativePrefix) {
      ctx.addIssue({ code: 'custom', path: ['nativePrefix'], message: 'must differ from transform.imgproxyPrefix' });
    }
    for (const [index, name] of (config.allowedOptions ?? []).entries()) {
      if (resolveOptionName(name) === undefined) ctx.addIssue({ code: 'custom', path: ['allowedOptions', index], message: `unknown option "${name}"` });
    }
    for (const { preset, message } of presetProblems(config.presets)) {
      ctx.addIssue({ code: 'custom', path: ['presets', preset], message });
    }
  })
  .prefault({});

export type TransformConfig = z.infer<typeof transformSchema>;
export type ResultStoreConfig = z.infer<typeof resultStoreSchema>;
