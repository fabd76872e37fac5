// The image transform worker: where it listens, its limits, formats and cache.
import os from 'node:os';
import { z } from 'zod';
import { DEFAULT_AVIF_EFFORT, DEFAULT_RENDER_LIMITS } from '../transform/pipeline/types.js';
import { OUTPUT_FORMATS, type OutputFormat } from '../transform/plan.js';
import { ConfigError } from './errors.js';

/** nginx size (`512m`, `1g`) and time (`30s`, `7d`) literals, as the directives take them. */
const nginxSize = z.string().regex(/^\d+[kKmMgG]?$/, 'an nginx size such as 512m or 2g');
const nginxTime = z.string().regex(/^\d+(ms|s|m|h|d|w|M|y)?$/, 'an nginx time such as 30m or 7d');

/** The worker refuses anything it did not get through nginx: it never listens beyond loopback. */
const loopbackHost = z
  .string()
  .refine((h) => /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::1' || h === 'localhost', 'the worker listens on loopback only (127.x.x.x, ::1 or localhost)');

const quality = z.number().int().min(1).max(100);
const pixels = z.number().int().min(1).max(268_435_456);

const limitsSchema = z.strictObject({
  /** Source resolution (width × height × frames), read from the header before decoding. */
  maxInputPixels: z.number().int().min(1).default(50_000_000),
  maxFrames: z.number().int().min(1).default(1),
  /** Largest width or height of a result. */
  maxResultDimension: z.number().int().min(1).max(65_535).default(8192),
  /** Largest width × height of a result (extend, padding, dpr included); URLs asking for more → 400. */
  maxResultPixels: z.number().int().min(1).max(268_435_456).default(DEFAULT_RENDER_LIMITS.maxResultPixels),
  /** Stricter area per output format (the lower of the two applies): AVIF and GIF encoders cannot be stopped at the deadline. */
  formatMaxResultPixels: z
    .strictObject(Object.fromEntries(OUTPUT_FORMATS.map((f) => [f, pixels.optional()])) as Record<OutputFormat, z.ZodOptional<typeof pixels>>)
    .default(DEFAULT_RENDER_LIMITS.formatMaxResultPixels),
  /** Largest blur sigma a URL may ask for (→ 400); cost grows with pixels × sigma. */
  maxBlurSigma: z.number().min(0.3).max(1000).default(DEFAULT_RENDER_LIMITS.maxBlurSigma),
});

/** Renders per client that reach the worker (cache misses only): a token bucket per client. */
const renderBudgetSchema = z.strictObject({
  rendersPerSecond: z.number().positive().max(10_000).default(2),
  burst: z.number().int().min(1).max(100_000).default(60),
});

const cacheSchema = z.strictObject({
  /** nginx proxy_cache for results; off = every request reaches the worker. */
  enabled: z.boolean().default(true),
  /** Relative paths are resolved by nginx against its prefix (`-p`; the runtime dir of the full config). */
  dir: z.string().min(1).regex(/^[^$"'{};\\\s]+$/, 'a path without spaces, quotes, $ { } ; or \\').default('sluice-img-cache'),
  maxSize: nginxSize.default('1g'),
  /** Entries not requested for this long are evicted. */
  inactive: nginxTime.default('7d'),
  /** How long a 200 stays fresh (the key already changes when the source changes). */
  valid: nginxTime.default('7d'),
});

export const workerSchema = z
  .strictObject({
    host: loopbackHost.default('127.0.0.1'),
    port: z.number().int().min(1).max(65535).default(3001),
    /** HMAC key shared by app and worker: proof that a request came through Sluice. */
    secret: z.string().min(32, 'the worker secret must be at least 32 characters').optional(),
    /** Images processed at once; the rest wait in the queue. */
    concurrency: z.number().int().min(1).max(256).default(os.availableParallelism()),
    /** Requests waiting for a slot; beyond that the worker answers 429. */
    queueSize: z.number().int().min(0).max(10_000).default(32),
    /**
     * Images one client (token subject, share link, or address for imgproxy URLs) may have
     * processed at once; default half the slots, so one client never holds them all.
     */
    clientConcurrency: z.number().int().min(1).max(256).optional(),
    /** Requests one client may have waiting; beyond that it gets 429. Default a quarter of queueSize (at least 1). */
    clientQueueSize: z.number().int().min(0).max(10_000).optional(),
    /** Per-client budget of renders (cache misses); exhausted → 429 with Retry-After. */
    renderBudget: renderBudgetSchema.prefault({}),
    retryAfterSeconds: z.number().int().min(1).max(3600).default(1),
    /** Source download (fetch of a presigned URL, or a disk read) → 504 when exceeded. */
    downloadTimeoutMs: z.number().int().min(100).max(120_000).default(5_000),
    /** The whole job (queue wait, download, decode, transform, encode) → 503 when exceeded. */
    requestTimeoutMs: z.number().int().min(100).max(300_000).default(10_000),
    maxSourceBytes: z.number().int().min(1024).default(32 * 1024 * 1024),
    limits: limitsSchema.prefault({}),
    /** Quality per format when the URL sets none; unset formats keep imgproxy's (jpeg 80, webp 79, avif 63). */
    defaultQuality: z.strictObject(Object.fromEntries(OUTPUT_FORMATS.map((f) => [f, quality.optional()])) as Record<OutputFormat, z.ZodOptional<typeof quality>>).prefault({}),
    /** AVIF encoder effort 0 (fastest) – 9; see the README for the measurement behind the default. */
    avifEffort: z.number().int().min(0).max(9).default(DEFAULT_AVIF_EFFORT),
    /** Image file used by the `watermark` option (PNG with alpha works best). */
    watermark: z.string().min(1).optional(),
    /** The same image inline, base64 (imgproxy's IMGPROXY_WATERMARK_DATA); one of the two. */
    watermarkData: z
      .string()
      .regex(/^[A-Za-z0-9+/_-]+={0,2}$/, 'base64 image data')
      .optional(),
    /** Master switch: pick AVIF/WebP from the Accept header (see autoAvif … enforceWebp). */
    negotiate: z.boolean().default(true),
    /** With negotiation, AVIF before WebP when the client accepts both. */
    preferAvif: z.boolean().default(true),
    /** imgproxy's AUTO_AVIF / AUTO_WEBP: negotiate that format when the URL names none. */
    autoAvif: z.boolean().default(true),
    autoWebp: z.boolean().default(true),
    /** imgproxy's ENFORCE_AVIF / ENFORCE_WEBP: negotiate it even when the URL names a format. */
    enforceAvif: z.boolean().default(false),
    enforceWebp: z.boolean().default(false),
    /** libvips threads per image; concurrency × threads should not exceed the cores. */
    vipsThreads: z.number().int().min(1).max(64).default(1),
    cache: cacheSchema.prefault({}),
  })
  .superRefine((worker, ctx) => {
    if (worker.clientConcurrency !== undefined && worker.clientConcurrency > worker.concurrency) {
      ctx.addIssue({ code: 'custom', path: ['clientConcurrency'], message: `must not exceed worker.concurrency (${worker.concurrency})` });
    }
    if (worker.watermark !== undefined && worker.watermarkData !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['watermarkData'], message: 'set worker.watermark or worker.watermarkData, not both' });
    }
    if (worker.clientQueueSize !== undefined && worker.clientQueueSize > worker.queueSize) {
      ctx.addIssue({ code: 'custom', path: ['clientQueueSize'], message: `must not exceed worker.queueSize (${worker.queueSize})` });
    }
  })
  .transform((worker) => ({
    ...worker,
    clientConcurrency: worker.clientConcurrency ?? Math.max(1, Math.floor(worker.concurrency / 2)),
    clientQueueSize: worker.clientQueueSize ?? Math.max(1, Math.floor(worker.queueSize / 4)),
  }))
  .prefault({});

export type WorkerConfig = z.infer<typeof workerSchema>;
export type WorkerLimits = z.infer<typeof limitsSchema>;

/** Cross-setting check for start-up: transforms need the app↔worker secret. */
export function assertWorkerSecret(worker: WorkerConfig): string {
  if (worker.secret === undefined) throw ConfigError.forKey('worker.secret', 'required for image transforms and encrypted stores (app and worker share it)');
  return worker.secret;
}
