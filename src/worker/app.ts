// The worker's HTTP surface (Koa, like the app): GET|HEAD /render for nginx, /healthz, /metrics.
// A render request acts only on a valid ticket; everything else about it was decided by the app.
import Router from '@koa/router';
import Koa, { type Context } from 'koa';
import mime from 'mime-types';
import fresh from 'fresh';
import { abortable } from '../abortable.js';
import { PublicError } from '../errors.js';
import { errorResponses } from '../http/error-responses.js';
import { requestId } from '../http/request-id.js';
import type { Logger } from '../observability/logger.js';
import contentDisposition from 'content-disposition';
import { asciiFallback, safeFileName } from '../http/download-headers.js';
import { TICKET_HEADER } from '../contract/tickets.js';
import { CRYPT_READ_PATH, CRYPT_WRITE_PATH, RENDER_PATH } from '../contract/worker-paths.js';
import { verifyTicket, type DownloadName, type Ticket } from '../transform/internal-token.js';
import type { WorkerMetrics } from './metrics.js';
import type { RenderBudget } from './transform/budget.js';
import type { Limiter } from './transform/queue.js';
import type { SourceFetcher } from './transform/source.js';
import type { ResultStore } from './transform/result-store.js';
import type { RenderedImage, Renderer } from './transform/rendered.js';

export type { RenderedImage, Renderer } from './transform/rendered.js';

export interface WorkerAppDeps {
  readonly secret: string;
  /** The whole job: queue wait, download and processing. */
  readonly requestTimeoutMs: number;
  readonly limiter: Limiter;
  /** Per-client budget of renders; absent = unbudgeted. */
  readonly budget?: RenderBudget;
  readonly fetcher: SourceFetcher;
  readonly render: Renderer;
  readonly logger: Logger;
  readonly metrics: WorkerMetrics;
  /** The shared result store (transform.resultStore), and this worker's renderSettingsDigest. */
  readonly results?: { readonly store: ResultStore; readonly settings: string };
  /** More endpoints of the worker tier (the crypt routes of encrypted stores). */
  readonly extraRoutes?: readonly Router[];
}

export function createWorkerApp(deps: WorkerAppDeps): Koa {
  const app = new Koa();
  app.silent = true;
  const router = new Router();
  router.get(RENDER_PATH, (ctx) => renderRoute(ctx, deps));
  router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  router.get('/metrics', async (ctx) => {
    ctx.set('Content-Type', deps.metrics.registry.contentType);
    ctx.body = await deps.metrics.registry.metrics();
  });
  app.use(requestId);
  app.use(async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      if (ctx.path === RENDER_PATH) {
        deps.metrics.renders.inc({ status: String(ctx.status) });
        // Never the ticket or the source: a presigned URL is a credential.
        deps.logger.info(
          { requestId: ctx.state.requestId, status: ctx.status, format: ctx.state.format, ms: Math.round(performance.now() - started) },
          'render',
        );
      } else if (ctx.path.startsWith('/crypt/')) {
        const op = ctx.path === CRYPT_READ_PATH ? 'read' : ctx.path === CRYPT_WRITE_PATH ? 'write' : 'other';
        deps.metrics.crypt.inc({ op, status: String(ctx.status) });
        deps.logger.info(
          { requestId: ctx.state.requestId, method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(performance.now() - started) },
          'crypt',
        );
      }
    }
  });
  app.use(errorResponses(deps.logger));
  app.use(router.routes());
  app.use(router.allowedMethods());
  for (const extra of deps.extraRoutes ?? []) {
    app.use(extra.routes());
    app.use(extra.allowedMethods());
  }
  return app;
}

async function renderRoute(ctx: Context, deps: WorkerAppDeps): Promise<void> {
  const ticket = verifyTicket(ctx.get(TICKET_HEADER) || undefined, deps.secret);
  if (ticket === null) throw new PublicError(403, 'forbidden');
  // The key names the exact result (plan, source version, format): a strong validator, known
  // before any work. A result kept in the shared store gets the store's ETag instead (below).
  if (notModified(ctx, `"${ticket.cacheKey}"`)) return;
  const results = usableResults(deps, ticket);
  if (results !== null && (await servedFromStore(ctx, deps, results, ticket))) return;
  // Only renders get here (nginx serves cache hits), so only renders spend the budget.
  await deps.budget?.spend(ticket.client);
  const started = performance.now();
  const deadlineMs = Date.now() + deps.requestTimeoutMs;
  const result = await withDeadline(ctx, deps, (signal) =>
    deps.limiter.run(async () => deps.render(await deps.fetcher.fetch(ticket.source, signal), ticket, deadlineMs), signal, ticket.client),
  );
  deps.metrics.duration.observe({ format: result.format }, (performance.now() - started) / 1000);
  ctx.state.format = result.format;
  ctx.type = result.contentType ?? (mime.lookup(result.format) || 'application/octet-stream');
  // Named here, where the format is known; nginx caches it with the image (the name is in the key).
  if (ticket.download !== undefined) ctx.set('Content-Disposition', dispositionFor(ticket.download, result));
  // Another node serves the stored copy with the store's ETag: this answer carries the same one.
  const storedEtag = results === null ? undefined : await keepInStore(deps, results, ticket, result, ctx.type);
  if (storedEtag !== undefined && notModified(ctx, storedEtag)) return;
  ctx.body = result.data;
}

/** Sets `etag`; true (and a 304) when the request's If-None-Match names it. nginx sends that header only without its cache. */
function notModified(ctx: Context, etag: string): boolean {
  ctx.set('ETag', etag);
  if (!fresh({ 'if-none-match': ctx.get('If-None-Match') }, { etag })) return false;
  ctx.status = 304;
  return true;
}

interface UsableResults {
  readonly store: ResultStore;
  readonly key: string;
}

/** The store applies when the app keyed this result with the same render settings as ours. */
function usableResults(deps: WorkerAppDeps, ticket: Ticket): UsableResults | null {
  if (deps.results === undefined || ticket.result === undefined) return null;
  if (ticket.result.settings !== deps.results.settings) {
    // App and worker disagree on quality, watermark or limits (a rolling change): a stored result
    // could carry the other side's settings, so this render neither reads nor writes the store.
    deps.metrics.resultStore.inc({ outcome: 'skipped' });
    return null;
  }
  return { store: deps.results.store, key: ticket.result.key };
}

/** A stored result: nginx fetches it (X-Accel-Redirect) and no render happens. */
async function servedFromStore(ctx: Context, deps: WorkerAppDeps, results: UsableResults, ticket: Ticket): Promise<boolean> {
  let found: Awaited<ReturnType<ResultStore['find']>>;
  try {
    found = await results.store.find(results.key);
  } catch (error) {
    // The store is an optimization: when it fails, render as if it were not there.
    deps.metrics.resultStore.inc({ outcome: 'error' });
    deps.logger.warn({ requestId: ctx.state.requestId, err: { message: (error as Error).message } }, 'result store lookup failed');
    return false;
  }
  deps.metrics.resultStore.inc({ outcome: found === null ? 'miss' : 'hit' });
  if (found === null) return false;
  ctx.state.format = `stored:${found.format}`;
  // The client's copy is current: no fetch from the store at all.
  if (found.etag !== undefined && notModified(ctx, found.etag)) return true;
  const disposition = ticket.download === undefined ? undefined : dispositionFor(ticket.download, { data: Buffer.alloc(0), format: found.format });
  const target = await results.store.redirect(results.key, found, disposition);
  // Charset-less, as the app's own redirect: nginx would keep Koa's text charset on the image type.
  ctx.set({ 'Content-Type': found.contentType, ...target.headers, 'X-Accel-Redirect': target.location });
  ctx.status = 200;
  ctx.body = '';
  return true;
}

/** Rendered results in a format Sluice writes go to the store once, before the answer; resolves to the stored copy's ETag. */
async function keepInStore(
  deps: WorkerAppDeps,
  results: UsableResults,
  ticket: Ticket,
  result: RenderedImage,
  contentType: string,
): Promise<string | undefined> {
  if (ticket.plan.raw || result.contentType !== undefined || EXTENSIONS[result.format] === undefined) return undefined;
  try {
    const etag = await results.store.keep(results.key, { data: result.data, format: result.format, contentType });
    deps.metrics.resultStore.inc({ outcome: 'write' });
    return etag;
  } catch (error) {
    // The client still gets its image; the next miss renders (and tries to keep) it again.
    deps.metrics.resultStore.inc({ outcome: 'error' });
    deps.logger.warn({ err: { message: (error as Error).message } }, 'result store write failed');
    return undefined;
  }
}

const EXTENSIONS: Readonly<Record<string, string>> = { jpeg: 'jpg', png: 'png', webp: 'webp', avif: 'avif', gif: 'gif' };

/** imgproxy's naming: the filename option (or the source's stem) plus the result's extension; RFC 6266/5987 encoded. */
export function dispositionFor(download: DownloadName, result: RenderedImage): string {
  const extension = result.extension === undefined ? (EXTENSIONS[result.format] ?? null) : result.extension;
  const name = safeFileName(extension === null ? download.stem : `${download.stem}.${extension}`);
  const type = download.attachment || result.attachmentOnly === true ? 'attachment' : 'inline';
  return contentDisposition(name, { type, fallback: asciiFallback(name) });
}

/**
 * Runs `job` with a signal that aborts when the deadline passes (→ 503) or the client leaves.
 * A transform already running keeps its slot until libvips stops — at the same deadline, by
 * sharp's timeout (pipeline/deadline.ts) — so the concurrency bound holds even for jobs whose
 * answer was given up, and the slot comes back within about a second of the 503.
 */
async function withDeadline<T>(ctx: Context, deps: WorkerAppDeps, job: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const deadline = AbortSignal.timeout(deps.requestTimeoutMs);
  const clientGone = new AbortController();
  ctx.res.once('close', () => {
    if (!ctx.res.writableFinished) clientGone.abort();
  });
  const signal = AbortSignal.any([deadline, clientGone.signal]);
  const running = job(signal);
  running.catch(() => undefined); // its outcome may arrive after we have answered
  try {
    return await abortable(running, signal);
  } catch (error) {
    // Aborted before the job settled: the answer is the abort's, whatever the job threw since.
    if (!signal.aborted) throw error;
    throw deadline.aborted ? new PublicError(503, 'processing timed out') : new PublicError(499, 'client closed request');
  }
}
