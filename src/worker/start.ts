// Composition root of `sluice worker`: a separate process beside nginx that acts on the app's
// tickets — image transforms, and the encryption/decryption of encrypted stores. Bytes never pass
// through the app; the worker never decides who may see them.
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { ConfigError } from '../config/errors.js';
import type { SluiceConfig } from '../config/schema.js';
import { assertWorkerSecret } from '../config/worker-schema.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { isLoopback } from '../contract/loopback.js';
import { createStores } from '../storage/registry.js';
import { s3Origin } from '../storage/s3-store.js';
import { createWorkerApp, type Renderer } from './app.js';
import { createWorkerMetrics } from './metrics.js';
import { createLimiter } from './transform/queue.js';
import { createRenderer } from './transform/render.js';
import { createSourceFetcher } from './transform/source.js';
import { drain } from '../http/drain.js';
import { createCryptTier } from './crypto/tier.js';
import { createRateLimiter } from '../ratelimit/create.js';
import type { BucketSettings } from '../ratelimit/types.js';
import { openSharedState } from '../state/shared-state.js';
import { createRenderBudget } from './transform/budget.js';
import { createResultStore } from './transform/result-store.js';
import { renderSettingsDigest } from '../transform/result-key.js';

export interface RunningWorker {
  readonly address: string;
  readonly port: number;
  /** Stops accepting; renders in flight get up to graceMs to finish (0 = cut at once). */
  close(graceMs?: number): Promise<void>;
}

export interface WorkerStartOptions {
  readonly logger?: Logger;
  /** Overrides config.worker.port (0 = any free port). */
  readonly port?: number;
  /** Replaces the sharp pipeline (unit tests). */
  readonly render?: Renderer;
}

export async function startWorker(config: SluiceConfig, options: WorkerStartOptions = {}): Promise<RunningWorker> {
  const worker = config.worker;
  const secret = assertWorkerSecret(worker);
  const logger = (options.logger ?? createLogger(config.logLevel)).child({ process: 'worker' });
  // Bounded memory: no libvips operation cache (every source is different, so it would only
  // hold memory), a fixed thread count per image.
  sharp.cache(false);
  sharp.concurrency(worker.vipsThreads);
  if (process.env.MALLOC_ARENA_MAX === undefined) {
    logger.warn('MALLOC_ARENA_MAX is not set: start the worker with MALLOC_ARENA_MAX=2 so glibc returns memory after bursts');
  }
  const stores = await createStores(config);
  const limiter = createLimiter({
    concurrency: worker.concurrency,
    queueSize: worker.queueSize,
    retryAfterSeconds: worker.retryAfterSeconds,
    clientConcurrency: worker.clientConcurrency,
    clientQueueSize: worker.clientQueueSize,
    onRefused: (reason) => metrics.refused.inc({ reason }),
  });
  const metrics = createWorkerMetrics(limiter);
  const crypt = await createCryptTier(config, stores, secret, { logger, integrityFailures: metrics.cryptIntegrity });
  const origins = new Set<string>();
  for (const store of Object.values(config.stores)) {
    if (store.type === 's3') origins.add(await s3Origin(store));
  }
  const watermark = await loadWatermark(worker.watermark, worker.watermarkData);
  // Render budgets live in Redis when configured: one budget per client across all workers.
  const state = await openSharedState(config, logger);
  const budget = createRenderBudget(createRateLimiter(budgetSettings(worker), state), logger, () => metrics.refused.inc({ reason: 'budget' }));
  const resultStore = await createResultStore(config);
  const app = createWorkerApp({
    secret,
    requestTimeoutMs: worker.requestTimeoutMs,
    limiter,
    budget,
    fetcher: createSourceFetcher(crypt?.sourceStore ?? ((name) => stores.get(name)), origins, {
      maxBytes: worker.maxSourceBytes,
      timeoutMs: worker.downloadTimeoutMs,
    }),
    render: options.render ?? createRenderer(worker, watermark),
    logger,
    metrics,
    ...(resultStore !== null && { results: { store: resultStore, settings: renderSettingsDigest(worker) } }),
    extraRoutes: crypt === null ? [] : [crypt.routes],
  });
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(options.port ?? worker.port, worker.host, () => resolve(s));
    s.once('error', reject);
  });
  server.keepAliveTimeout = 65_000; // longer than nginx's upstream keepalive_timeout
  const port = (server.address() as AddressInfo).port;
  const address = `${worker.host}:${port}`;
  const exposed = exposedWorkerWarning(worker.host);
  if (exposed !== undefined) logger.warn({ workerHost: worker.host }, exposed);
  logger.info(
    {
      address,
      concurrency: worker.concurrency,
      queueSize: worker.queueSize,
      clientConcurrency: worker.clientConcurrency,
      clientQueueSize: worker.clientQueueSize,
    },
    'sluice worker listening',
  );
  return {
    address,
    port,
    close: async (graceMs = 0) => {
      await drain(server, graceMs, logger);
      state.close();
    },
  };
}

/** The start-up warning for a worker port others can reach (undefined on loopback). */
export function exposedWorkerWarning(host: string): string | undefined {
  if (isLoopback(host)) return undefined;
  return `worker.host ${host} is not a loopback address: the worker port (renders, encrypted-store reads and writes, /metrics) must be reachable by nginx only; it refuses work without a signed ticket, but firewall it or set worker.host (SLUICE_WORKER__HOST) to 127.0.0.1`;
}

function budgetSettings(worker: SluiceConfig['worker']): BucketSettings {
  return { requestsPerSecond: worker.renderBudget.rendersPerSecond, burst: worker.renderBudget.burst };
}

async function loadWatermark(file: string | undefined, data: string | undefined): Promise<Buffer | null> {
  if (data !== undefined) {
    const image = Buffer.from(data, 'base64');
    try {
      await sharp(image).metadata();
      return image;
    } catch (error) {
      throw ConfigError.forKey('worker.watermarkData', `is not a base64 image (${(error as Error).message})`);
    }
  }
  if (file === undefined) return null;
  try {
    const image = await readFile(file);
    await sharp(image).metadata();
    return image;
  } catch (error) {
    throw ConfigError.forKey('worker.watermark', `"${file}" is not a readable image (${(error as Error).message})`);
  }
}
