// The image transform worker: where it listens, its limits, formats and cache.
import os from 'node:os';
import { z } from 'zod';
import { DEFAULT_AVIF_EFFORT, DEFAULT_QUALITY, DEFAULT_RENDER_LIMITS } from '../transform/pipeline/types.js';
import { OUTPUT_FORMATS, type OutputFormat } from '../transform/plan.js';
import { ConfigError } from './errors.js';

/** nginx size (`512m`, `1g`) and time (`30s`, `7d`) literals, as the directives take them. */
const nginxSize = z.string().regex(/^\d+[kKmMgG]?$/, 'an nginx size such as 512m or 2g');
const nginxTime = z.string().regex(/^\d+(ms|s|m|h|d|w|M|y)?$/, 'an nginx time such as 30m or 7d');

/** Host names and IP literals only: the address may end up in the rendered nginx upstream. */
const listenHost = z.string().regex(/^[A-Za-z0-9._:-]+$/, 'a host name or IP address');

/** host:port as nginx's `server` takes it (IPv6 in brackets); nothing nginx would parse further. */
const upstreamAddress = z
  .string()
  .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):\d{1,5}$/, 'host:port, such as worker:3001 or [::1]:3001')
  .refine((address) => {
    const port = Number(address.slice(address.lastIndexOf(':') + 1));
    return port >= 1 && port <= 65535;
  }, 'a port between 1 and 65535');

const quality = z.number().int().min(1).max(100);
const pixels = z.number().int().min(1).max(268_435_456);

const limitsSchema = z.strictObject({
  maxInputPixels: z
    .number()
    .int()
    .min(1)
    .default(50_000_000)
    .describe('source resolution (width × height × decoded frames), read from the header before decoding; above → 422'),
  maxFrames: z.number().int().min(1).default(1).describe("animation frames rendered (imgproxy's MAX_ANIMATION_FRAMES; 1 = the first frame only)"),
  maxResultDimension: z.number().int().min(1).max(65_535).default(8192).describe('largest width or height of a result; asked for explicitly beyond → 400'),
  maxResultPixels: z
    .number()
    .int()
    .min(1)
    .max(268_435_456)
    .default(DEFAULT_RENDER_LIMITS.maxResultPixels)
    .describe('largest width × height of a result (extend, padding, dpr included); URLs asking for more → 400'),
  /** AVIF and GIF encoders cannot be stopped at the deadline. */
  formatMaxResultPixels: z
    .strictObject(
      Object.fromEntries(
        OUTPUT_FORMATS.map((f) => [f, pixels.optional().describe(`stricter result area for ${f} (the lower of this and \`maxResultPixels\` applies)`)]),
      ) as Record<OutputFormat, z.ZodOptional<typeof pixels>>,
    )
    .default(DEFAULT_RENDER_LIMITS.formatMaxResultPixels),
  maxBlurSigma: z
    .number()
    .min(0.3)
    .max(1000)
    .default(DEFAULT_RENDER_LIMITS.maxBlurSigma)
    .describe('largest `blur` a URL may ask for (→ 400): a Gaussian costs pixels × sigma'),
});

/** Renders per client that reach the worker (cache misses only): a token bucket per client. */
const renderBudgetSchema = z.strictObject({
  rendersPerSecond: z
    .number()
    .positive()
    .max(10_000)
    .default(2)
    .describe('renders (cache misses) per client per second; bucket empty → 429 with `Retry-After`'),
  burst: z.number().int().min(1).max(100_000).default(60).describe('renders one client may start at once before the rate applies'),
});

const cacheSchema = z.strictObject({
  enabled: z.boolean().default(true).describe('nginx `proxy_cache` for results; off = every request reaches the worker'),
  dir: z
    .string()
    .min(1)
    .regex(/^[^$"'{};\\\s]+$/, 'a path without spaces, quotes, $ { } ; or \\')
    .default('sluice-img-cache')
    .describe(
      'cache directory; relative paths are resolved by nginx against its prefix (`-p`; the runtime dir of the full config). Empty it after changing worker settings',
    ),
  maxSize: nginxSize.default('1g').describe('cache size limit (nginx size)'),
  inactive: nginxTime.default('7d').describe('entries not requested for this long are evicted (nginx time)'),
  /** The key already changes when the source changes. */
  valid: nginxTime.default('7d').describe('how long a 200 stays fresh (nginx time)'),
});

export const workerSchema = z
  .strictObject({
    /**
     * Loopback by default. The worker refuses work without an HMAC-signed ticket, but its port
     * (render, crypt, /metrics) is for nginx only: any other address logs a start-up warning.
     */
    host: listenHost
      .default('127.0.0.1')
      .describe(
        "the worker's listen address; keep it loopback unless nginx runs elsewhere (containers, other hosts) — then only nginx may reach the port. Any other address logs a start-up warning",
      ),
    upstream: upstreamAddress.optional().meta({
      docDefault: '`host:port` (a wildcard `host` as loopback)',
      description:
        'where nginx reaches the worker: the rendered `upstream sluice_worker`, e.g. `worker:3001` for a compose service whose DNS name lists every replica',
    }),
    port: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .default(3001)
      .describe("the worker's port (nginx proxies image and encrypted-store requests to it); `sluice dev --demo` picks a free port unless this is set"),
    secret: z
      .string()
      .min(32, 'the worker secret must be at least 32 characters')
      .optional()
      .describe('HMAC key shared by app and worker (≥ 32 characters): proof that a request came through Sluice; required with transforms and encrypted stores'),
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(256)
      .default(os.availableParallelism())
      .meta({ docDefault: 'one per core', description: 'images processed at once (per worker process); the rest wait in the queue' }),
    queueSize: z.number().int().min(0).max(10_000).default(32).describe('requests waiting for a slot; beyond that → 429'),
    clientConcurrency: z.number().int().min(1).max(256).optional().meta({
      docDefault: '½ `concurrency` (≥ 1)',
      description:
        'renders one client (token subject, share link, or address for imgproxy URLs) may have running, so one client never holds every slot; beyond `clientQueueSize` → 429',
    }),
    clientQueueSize: z
      .number()
      .int()
      .min(0)
      .max(10_000)
      .optional()
      .meta({ docDefault: '¼ `queueSize` (≥ 1)', description: 'requests one client may have waiting; beyond → 429' }),
    renderBudget: renderBudgetSchema.prefault({}),
    retryAfterSeconds: z.number().int().min(1).max(3600).default(1).describe("`Retry-After` of the worker's 429 answers"),
    downloadTimeoutMs: z.number().int().min(100).max(120_000).default(5_000).describe('source download (a presigned URL fetch or a disk read); exceeded → 504'),
    requestTimeoutMs: z
      .number()
      .int()
      .min(100)
      .max(300_000)
      .default(10_000)
      .describe('the whole job (queue wait, download, decode, transform, encode); exceeded → 503'),
    maxSourceBytes: z
      .number()
      .int()
      .min(1024)
      .default(32 * 1024 * 1024)
      .meta({ docDefault: '32 MiB', description: 'larger sources → 422 (checked before and while reading)' }),
    limits: limitsSchema.prefault({}),
    defaultQuality: z
      .strictObject(
        Object.fromEntries(
          OUTPUT_FORMATS.map((f) => [
            f,
            quality
              .optional()
              .meta({ docDefault: `\`${DEFAULT_QUALITY[f]}\``, description: `quality of ${f} results when the URL sets none (imgproxy's default)` }),
          ]),
        ) as Record<OutputFormat, z.ZodOptional<typeof quality>>,
      )
      .prefault({}),
    /** The measurement behind the default is in docs/transforms.md ("Output format"). */
    avifEffort: z.number().int().min(0).max(9).default(DEFAULT_AVIF_EFFORT).describe('AVIF encoder effort, 0 (fastest) – 9'),
    watermark: z.string().min(1).optional().describe('image file used by the `watermark` option and presets (PNG with alpha works best)'),
    watermarkData: z
      .string()
      .regex(/^[A-Za-z0-9+/_-]+={0,2}$/, 'base64 image data')
      .optional()
      .describe("the same image inline, base64 (imgproxy's IMGPROXY_WATERMARK_DATA); set one of the two"),
    negotiate: z.boolean().default(true).describe('master switch: pick AVIF/WebP from the `Accept` header at all'),
    preferAvif: z.boolean().default(true).describe('with negotiation, AVIF before WebP when the client accepts both'),
    autoAvif: z.boolean().default(true).describe("imgproxy's AUTO_AVIF: negotiate AVIF when the URL names no format"),
    autoWebp: z.boolean().default(true).describe("imgproxy's AUTO_WEBP: negotiate WebP when the URL names no format"),
    enforceAvif: z.boolean().default(false).describe("imgproxy's ENFORCE_AVIF: negotiate AVIF even when the URL names a format"),
    enforceWebp: z.boolean().default(false).describe("imgproxy's ENFORCE_WEBP: negotiate WebP even when the URL names a format"),
    vipsThreads: z.number().int().min(1).max(64).default(1).describe('libvips threads per image; `concurrency` × threads should not exceed the cores'),
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
