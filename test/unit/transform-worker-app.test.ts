// The worker's HTTP behaviour with the real ticket check, queue and source fetcher (fs store
// and a plain HTTP server standing in for presigned URLs) and a stub renderer.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Writable } from 'node:stream';
import sharp from 'sharp';
import { validateConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/observability/logger.js';
import { createFsStore } from '../../src/storage/fs-store.js';
import { TICKET_HEADER } from '../../src/contract/tickets.js';
import { signTicket, type SourceLocator, type Ticket } from '../../src/transform/internal-token.js';
import { DEFAULT_PLAN } from '../../src/transform/plan.js';
import { createWorkerApp, type Renderer } from '../../src/worker/app.js';
import { createWorkerMetrics } from '../../src/worker/metrics.js';
import { createLimiter, type Limiter } from '../../src/worker/transform/queue.js';
import { createSourceFetcher } from '../../src/worker/transform/source.js';
import { createResultStore, type ResultStore } from '../../src/worker/transform/result-store.js';
import { request, type RawResponse } from '../helpers/http.js';

const SECRET = 'worker-secret-0123456789abcdef0123456789';
const MAX_BYTES = 2048;

let base: string;
let worker: http.Server;
let workerPort: number;
let origin: http.Server;
let originUrl: string;
/** What the stub renderer does; reset before each test. */
let renderImpl: Renderer;
let renderCalls: number;
let limiter: Limiter;

/** A render that runs until the test finishes it, and says when it has started. */
function heldRender(): { impl: Renderer; started: Promise<void>; finish: () => void } {
  let started = (): void => undefined;
  let finish = (): void => undefined;
  const running = new Promise<void>((resolve) => {
    finish = resolve;
  });
  return {
    started: new Promise((resolve) => {
      started = resolve;
    }),
    impl: async () => {
      started();
      await running;
      return { data: Buffer.from('x'), format: 'webp' };
    },
    finish: () => finish(),
  };
}

const render: Renderer = (source, ticket) => {
  renderCalls += 1;
  return renderImpl(source, ticket);
};

function ticketFor(source: SourceLocator, overrides: Partial<Ticket> = {}): string {
  return signTicket({ plan: DEFAULT_PLAN, source, format: 'webp', cacheKey: 'a'.repeat(64), expires: Date.now() / 1000 + 60, ...overrides }, SECRET);
}

const local = (...segments: string[]): SourceLocator => ({ kind: 'store', store: 'photos', segments });

function renderWith(ticket: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return request(workerPort, '/render', { headers: { [TICKET_HEADER]: ticket, ...headers } });
}

before(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'sluice-worker-unit-'));
  const root = path.join(base, 'store');
  await mkdir(path.join(root, 'dir'), { recursive: true });
  await writeFile(path.join(root, 'dir', 'small.jpg'), 'small source');
  await writeFile(path.join(root, 'big.jpg'), Buffer.alloc(MAX_BYTES + 1));
  await writeFile(path.join(base, 'secret.jpg'), 'outside the store');

  origin = http.createServer((req, res) => {
    if (req.url === '/bucket/ok.jpg?X-Amz-Signature=x') res.end('remote source');
    else if (req.url?.startsWith('/bucket/chunked-big')) {
      res.write(Buffer.alloc(MAX_BYTES));
      res.end(Buffer.alloc(10));
    } else if (req.url?.startsWith('/bucket/slow')) setTimeout(() => res.end('late'), 2000).unref();
    else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;

  limiter = createLimiter({ concurrency: 1, queueSize: 0, retryAfterSeconds: 2 });
  const stores = new Map([['photos', createFsStore('photos', { type: 'fs', root, delivery: 'nginx', cacheControl: 'private', encrypted: false }, '/_sluice')]]);
  const app = createWorkerApp({
    secret: SECRET,
    requestTimeoutMs: 400,
    limiter,
    fetcher: createSourceFetcher((name) => stores.get(name), new Set([originUrl]), { maxBytes: MAX_BYTES, timeoutMs: 200 }),
    render,
    logger: createLogger('silent', new Writable({ write: (_c, _e, done) => done() })),
    metrics: createWorkerMetrics(limiter),
  });
  worker = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => worker.once('listening', resolve));
  workerPort = (worker.address() as AddressInfo).port;
});

after(async () => {
  worker?.closeAllConnections();
  origin?.closeAllConnections();
  await Promise.all([new Promise((r) => worker?.close(r)), new Promise((r) => origin?.close(r))]);
  if (base !== undefined) await rm(base, { recursive: true, force: true });
});

beforeEach(() => {
  renderCalls = 0;
  renderImpl = async (source) => ({ data: Buffer.concat([Buffer.from('rendered:'), source]), format: 'webp' });
});

describe('transform worker', () => {
  it('refuses requests without a valid ticket (403), before any work', async () => {
    for (const ticket of [undefined, 'garbage', `${ticketFor(local('dir', 'small.jpg')).slice(0, -3)}AAA`]) {
      const res = await request(workerPort, '/render', { headers: ticket === undefined ? {} : { [TICKET_HEADER]: ticket } });
      assert.equal(res.status, 403);
      assert.deepEqual(res.json(), { error: 'forbidden' });
    }
    const expired = await renderWith(ticketFor(local('dir', 'small.jpg'), { expires: Date.now() / 1000 - 1 }));
    assert.equal(expired.status, 403);
    assert.equal(renderCalls, 0);
  });

  it('renders a store source with type, length and an ETag naming the result', async () => {
    const res = await renderWith(ticketFor(local('dir', 'small.jpg')));
    assert.equal(res.status, 200);
    assert.equal(res.text(), 'rendered:small source');
    assert.equal(res.headers['content-type'], 'image/webp');
    assert.equal(res.headers['content-length'], String(res.body.length));
    assert.equal(res.headers.etag, `"${'a'.repeat(64)}"`);
  });

  it('answers If-None-Match with 304 without fetching or rendering', async () => {
    const res = await renderWith(ticketFor(local('dir', 'small.jpg')), { 'If-None-Match': `"${'a'.repeat(64)}"` });
    assert.equal(res.status, 304);
    assert.equal(res.body.length, 0);
    assert.equal(renderCalls, 0);
  });

  it('confines store sources to the store root, even with a valid ticket', async () => {
    for (const segments of [['..', 'secret.jpg'], ['dir', '..', '..', 'secret.jpg'], ['missing.jpg']]) {
      const res = await renderWith(ticketFor(local(...segments)));
      assert.equal(res.status, 404, segments.join('/'));
    }
    const unknownStore = await renderWith(ticketFor({ kind: 'store', store: 'nope', segments: ['x.jpg'] }));
    assert.equal(unknownStore.status, 404);
    assert.equal(renderCalls, 0);
  });

  it('refuses sources over maxSourceBytes with 422, by size or while streaming', async () => {
    assert.equal((await renderWith(ticketFor(local('big.jpg')))).status, 422);
    assert.equal((await renderWith(ticketFor({ kind: 'url', url: `${originUrl}/bucket/chunked-big.jpg` }))).status, 422);
    assert.equal(renderCalls, 0);
  });

  it('fetches presigned URLs only from the configured S3 origins', async () => {
    const ok = await renderWith(ticketFor({ kind: 'url', url: `${originUrl}/bucket/ok.jpg?X-Amz-Signature=x` }));
    assert.equal(ok.text(), 'rendered:remote source');
    assert.equal((await renderWith(ticketFor({ kind: 'url', url: `${originUrl}/bucket/gone.jpg` }))).status, 404);
    const elsewhere = await renderWith(ticketFor({ kind: 'url', url: 'http://127.0.0.2:9/bucket/ok.jpg' }));
    assert.equal(elsewhere.status, 404);
    assert.deepEqual(elsewhere.json(), { error: 'source not allowed' });
  });

  it('answers 504 when the source download times out', async () => {
    const res = await renderWith(ticketFor({ kind: 'url', url: `${originUrl}/bucket/slow.jpg` }));
    assert.equal(res.status, 504);
    assert.deepEqual(res.json(), { error: 'source download timed out' });
  });

  it('answers 503 when processing exceeds the request timeout', async () => {
    const render = heldRender();
    renderImpl = render.impl;
    const res = await renderWith(ticketFor(local('dir', 'small.jpg')));
    assert.equal(res.status, 503);
    assert.deepEqual(res.json(), { error: 'processing timed out' });
    // The slot stays taken until libvips really finishes: the bound holds for abandoned jobs.
    const meanwhile = await renderWith(ticketFor(local('dir', 'small.jpg')));
    assert.equal(meanwhile.status, 429);
    render.finish();
    await new Promise(setImmediate); // the finished job's promise chain runs before the next turn
    assert.equal(limiter.active, 0);
  });

  it('answers 429 with Retry-After when every slot and queue place is taken', async () => {
    const render = heldRender();
    renderImpl = render.impl;
    const busy = renderWith(ticketFor(local('dir', 'small.jpg')));
    await render.started;
    const refused = await renderWith(ticketFor(local('dir', 'small.jpg')));
    assert.equal(refused.status, 429);
    assert.equal(refused.headers['retry-after'], '2');
    render.finish();
    assert.equal((await busy).status, 200);
  });

  it('maps pipeline refusals to their status and counts every answer in /metrics', async () => {
    const { PublicError } = await import('../../src/errors.js');
    renderImpl = () => Promise.reject(new PublicError(422, 'source image resolution too large'));
    const res = await renderWith(ticketFor(local('dir', 'small.jpg')));
    assert.equal(res.status, 422);
    const metrics = (await request(workerPort, '/metrics')).text();
    assert.match(metrics, /sluice_worker_requests_total\{status="422"\} [1-9]/);
    assert.match(metrics, /sluice_worker_requests_total\{status="403"\} \d+/);
  });
});

describe('transform worker with the shared result store', () => {
  const RESULT_KEY = 'c'.repeat(64);
  let resultsRoot: string;
  let store: ResultStore;
  let server: http.Server;
  let port: number;
  let png: Buffer;

  before(async () => {
    resultsRoot = path.join(base, 'results');
    await mkdir(resultsRoot);
    png = await sharp({ create: { width: 4, height: 3, channels: 3, background: '#36a' } })
      .png()
      .toBuffer();
    const config = validateConfig({
      stores: { photos: { type: 'fs', root: path.join(base, 'store') }, results: { type: 'fs', root: resultsRoot } },
      transform: { enabled: true, keys: ['736563726574'], salts: ['68656c6c6f'], localStore: 'photos', resultStore: { store: 'results', prefix: 'kept/' } },
      worker: { secret: SECRET },
    });
    store = (await createResultStore(config)) as ResultStore;
    const storeLimiter = createLimiter({ concurrency: 1, queueSize: 0, retryAfterSeconds: 2 });
    const stores = new Map([
      [
        'photos',
        createFsStore('photos', { type: 'fs', root: path.join(base, 'store'), delivery: 'nginx', cacheControl: 'private', encrypted: false }, '/_sluice'),
      ],
    ]);
    const app = createWorkerApp({
      secret: SECRET,
      requestTimeoutMs: 400,
      limiter: storeLimiter,
      fetcher: createSourceFetcher((name) => stores.get(name), new Set(), { maxBytes: MAX_BYTES, timeoutMs: 200 }),
      render: () => {
        renderCalls += 1;
        return Promise.resolve({ data: png, format: 'png' });
      },
      logger: createLogger('silent', new Writable({ write: (_c, _e, done) => done() })),
      metrics: createWorkerMetrics(storeLimiter),
      results: { store, settings: 'same-settings' },
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
  });

  const stored = (headers: Record<string, string> = {}): Promise<RawResponse> =>
    request(port, '/render', {
      headers: { [TICKET_HEADER]: ticketFor(local('dir', 'small.jpg'), { format: 'png', result: { key: RESULT_KEY, settings: 'same-settings' } }), ...headers },
    });

  it("answers a kept render with the stored copy's ETag, and If-None-Match with it from the store lookup alone (304, no render, no redirect)", async () => {
    const first = await stored();
    assert.equal(first.status, 200);
    assert.ok(first.body.equals(png));
    const file = await stat(path.join(resultsRoot, 'kept', 'cc', RESULT_KEY));
    // What nginx's static handler sends for that file (hex mtime seconds, hex size).
    const etag = `"${Math.floor(file.mtimeMs / 1000).toString(16)}-${file.size.toString(16)}"`;
    assert.equal(first.headers.etag, etag);
    assert.equal(renderCalls, 1);

    const revalidated = await stored({ 'If-None-Match': etag });
    assert.equal(revalidated.status, 304);
    assert.equal(revalidated.headers.etag, etag);
    assert.equal(revalidated.headers['x-accel-redirect'], undefined);
    assert.equal(renderCalls, 1);

    const elsewhere = await stored({ 'If-None-Match': '"other"' });
    assert.equal(elsewhere.status, 200);
    assert.match(String(elsewhere.headers['x-accel-redirect']), new RegExp(`/cc/${RESULT_KEY}$`), 'the stored copy, through nginx');
    assert.equal(renderCalls, 1);
  });
});
