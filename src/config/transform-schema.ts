// Image transform URLs: imgproxy-compatible signing, presets, allowed options.
import { z } from 'zod';
import { resolveOptionName } from '../transform/options/table.js';
import { presetProblems } from '../transform/presets.js';

const hexString = z
  .string({ error: 'a hex string' })
  .regex(/^(?:[0-9a-fA-F]{2})+$/, 'must be a non-empty hex string with an even number of digits');

/** One value, a comma-separated list (imgproxy's IMGPROXY_KEYS style) or an array. */
const hexList = z
  .union([z.string(), z.array(z.unknown())], { error: 'a hex string or a list of them' })
  .transform((value) => (typeof value === 'string' ? value.split(',').map((v) => v.trim()).filter((v) => v !== '') : value))
  .pipe(z.array(hexString));

const urlPrefix = z.string().regex(/^\/[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/, 'a URL prefix such as /img');

/** Preset names appear in URLs (`preset:name`, `pr:a:b`): no separators allowed. */
const presetName = z.string().regex(/^[A-Za-z0-9_-]+$/, 'preset names are letters, digits, "-" or "_"');

export const transformSchema = z
  .strictObject({
    /** Off: neither URL form is routed. */
    enabled: z.boolean().default(false),
    /** imgproxy key/salt pairs (hex); several pairs are all accepted, for zero-downtime rotation. */
    keys: hexList.default([]),
    salts: hexList.default([]),
    /** Bytes of the HMAC kept in the signature (imgproxy's IMGPROXY_SIGNATURE_SIZE). */
    signatureSize: z.number().int().min(1).max(32).default(32),
    /** Accept imgproxy URLs without checking the signature. Only for development; ignored when keys are set. */
    unsafeUnsigned: z.boolean().default(false),
    /** name → "option/option"; `default` applies to every request before the URL's own options. */
    presets: z.record(presetName, z.string().min(1, 'a preset needs at least one option')).default({}),
    /** imgproxy's "only presets" mode: URLs name presets only, never raw options. */
    onlyPresets: z.boolean().default(false),
    /** When set, URL options outside this list are refused (options inside presets are always allowed). */
    allowedOptions: z.array(z.string().min(1)).optional(),
    /** The fs store that `local:///<path>` sources are read from; unset = local sources are refused. */
    localStore: z.string().min(1).optional(),
    /** imgproxy-compatible form: <prefix>/<signature>/<options>/<source>. */
    imgproxyPrefix: urlPrefix.default('/img'),
    /** Sluice-native form: <prefix>/<store>/<key…>?<option>=<args>. */
    nativePrefix: urlPrefix.default('/images'),
    /**
     * imgproxy's IMGPROXY_ALLOWED_SOURCES: source URL prefixes (`local://`, `s3://bucket/`; `*`
     * matches within one segment) a signed URL may name; unset = every configured source.
     */
    allowedSources: z.array(z.string().min(1)).optional(),
    /**
     * imgproxy's IMGPROXY_TTL: Cache-Control max-age of results in seconds, capped by the URL's
     * `expires:`; unset = the source store's cacheControl.
     */
    ttl: z.number().int().min(0).max(31_536_000 * 10).optional(),
    /** With `ttl`: `public` (shared caches may keep results) instead of the default `private`. */
    publicCache: z.boolean().default(false),
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
