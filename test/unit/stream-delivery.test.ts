import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import Koa from 'koa';
import { storeSchema, type FsStoreConfig } from '../../src/config/schema.js';
import { PublicError } from '../../src/errors.js';
import { deliverStream } from '../../src/offload/stream.js';
import { createFsStore } from '../../src/storage/fs-store.js';
import { refusedWrites } from '../../src/storage/read-only.js';
import type { CanonicalKey, Store } from '../../src/storage/types.js';

const CONTENT = 'Hello, streaming world!'; // 23 bytes

/**
 * A store that announces 1000 bytes but sends 100, then fails ('error') or just ends ('short'):
 * either way the connection must be cut rather than left waiting.
 */
function brokenStore(mode: 'error' | 'short'): Store {
  return {
    name: 'broken',
    kind: 'fs',
    encrypted: false,
    delivery: 'stream',
    cacheControl: 'private, no-store',
    accelTarget: () => Promise.reject(new Error('unused')),
    presignedUrl: () => Promise.reject(new Error('unused')),
    stat: async () => ({ size: 1000, etag: '"broken"' }),
    read: async () => {
      let sent = false;
      return new Readable({
        read() {
          if (!sent) {
            sent = true;
            this.push(Buffer.alloc(100, 'x'));
          } else if (mode === 'short') {
            this.push(null);
          } else {
            setTimeout(() => this.destroy(new Error('disk on fire')), 20);
          }
        },
      });
    },
    ...refusedWrites('broken'),
    check: async () => undefined,
  };
}

interface Reply {
  readonly status: number;
  headers(name: string): string | null;
  readonly body: string;
}

function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(', ') : value;
}

describe('stream delivery', () => {
  let dir: string;
  let base: string;
  let server: ReturnType<Koa['listen']>;
  let lastModified: string;

  before(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'sluice-stream-'));
    await fsp.writeFile(path.join(dir, 'file.txt'), CONTENT);
    lastModified = (await fsp.stat(path.join(dir, 'file.txt'))).mtime.toUTCString();
    const config = storeSchema.parse({ type: 'fs', root: dir, delivery: 'stream' }) as FsStoreConfig;
    const store = createFsStore('files', config, '/_sluice');

    const app = new Koa();
    app.on('error', () => undefined); // the broken-stream test errors on purpose
    app.use(async (ctx, next) => {
      try {
        await next();
      } catch (error) {
        if (!(error instanceof PublicError)) throw error;
        ctx.status = error.status;
        ctx.set(error.headers);
        ctx.body = { error: error.reason };
      }
    });
    app.use(async (ctx) => {
      ctx.set('Content-Type', 'text/plain; charset=utf-8');
      ctx.set('Cache-Control', 'private, no-store');
      if (ctx.path === '/broken' || ctx.path === '/short') {
        return deliverStream(ctx, brokenStore(ctx.path === '/short' ? 'short' : 'error'), { segments: ['x'], value: 'x' });
      }
      const segments = ctx.path.slice(1).split('/').map(decodeURIComponent);
      const key: CanonicalKey = { segments, value: segments.join('/') };
      await deliverStream(ctx, store, key);
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await fsp.rm(dir, { recursive: true, force: true });
  });

  // node:http rather than fetch: fetch adds "Cache-Control: no-cache" to conditional requests.
  const get = (headers: Record<string, string> = {}, file = 'file.txt', method = 'GET'): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const req = http.request(`${base}/${file}`, { method, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: (name) => headerValue(res.headers[name.toLowerCase()]), body });
        });
      });
      req.on('error', reject);
      req.end();
    });

  it("GET sends the whole file with validators and the caller's Content-Type", async () => {
    const res = await get();
    assert.equal(res.status, 200);
    assert.equal(res.body, CONTENT);
    assert.equal(res.headers('content-length'), String(CONTENT.length));
    assert.equal(res.headers('content-type'), 'text/plain; charset=utf-8');
    assert.equal(res.headers('accept-ranges'), 'bytes');
    assert.equal(res.headers('last-modified'), lastModified);
    assert.match(res.headers('etag') ?? '', /^W\/"/);
    assert.equal(res.headers('cache-control'), 'private, no-store');
  });

  it('HEAD sends headers only', async () => {
    const res = await get({}, 'file.txt', 'HEAD');
    assert.equal(res.status, 200);
    assert.equal(res.headers('content-length'), String(CONTENT.length));
    assert.equal(res.headers('accept-ranges'), 'bytes');
    assert.equal(res.body, '');
  });

  it('HEAD with a Range announces the partial response', async () => {
    const res = await get({ Range: 'bytes=0-6' }, 'file.txt', 'HEAD');
    assert.equal(res.status, 206);
    assert.equal(res.headers('content-length'), '7');
    assert.equal(res.headers('content-range'), `bytes 0-6/${CONTENT.length}`);
  });

  it('Range bytes=0-6 → 206 with Content-Range', async () => {
    const res = await get({ Range: 'bytes=0-6' });
    assert.equal(res.status, 206);
    assert.equal(res.body, 'Hello, ');
    assert.equal(res.headers('content-range'), `bytes 0-6/${CONTENT.length}`);
    assert.equal(res.headers('content-length'), '7');
  });

  it('suffix range bytes=-5', async () => {
    const res = await get({ Range: 'bytes=-5' });
    assert.equal(res.status, 206);
    assert.equal(res.body, 'orld!');
    assert.equal(res.headers('content-range'), `bytes 18-22/${CONTENT.length}`);
  });

  it('open-ended range bytes=10-', async () => {
    const res = await get({ Range: 'bytes=10-' });
    assert.equal(res.status, 206);
    assert.equal(res.body, CONTENT.slice(10));
    assert.equal(res.headers('content-range'), `bytes 10-22/${CONTENT.length}`);
  });

  it('unsatisfiable range → 416 with Content-Range: bytes */size', async () => {
    const res = await get({ Range: 'bytes=100-200' });
    assert.equal(res.status, 416);
    assert.equal(res.headers('content-range'), `bytes */${CONTENT.length}`);
  });

  it('multiple ranges → 200 full body', async () => {
    const res = await get({ Range: 'bytes=0-1,5-6' });
    assert.equal(res.status, 200);
    assert.equal(res.body, CONTENT);
    assert.equal(res.headers('content-range'), null);
  });

  it('overlapping ranges are combined into one', async () => {
    const res = await get({ Range: 'bytes=0-3,2-6' });
    assert.equal(res.status, 206);
    assert.equal(res.body, 'Hello, ');
  });

  it('malformed or foreign-unit ranges are ignored', async () => {
    for (const range of ['bytes=abc', 'bytes=', 'bytes=1-2-3', 'items=0-1']) {
      const res = await get({ Range: range });
      assert.equal(res.status, 200, range);
      assert.equal(res.body, CONTENT);
    }
  });

  it('If-None-Match with the current ETag → 304 without a body', async () => {
    const etag = (await get({}, 'file.txt', 'HEAD')).headers('etag') ?? '';
    for (const method of ['GET', 'HEAD']) {
      const res = await get({ 'If-None-Match': etag }, 'file.txt', method);
      assert.equal(res.status, 304);
      assert.equal(res.headers('etag'), etag);
      assert.equal(res.body, '');
    }
    assert.equal((await get({ 'If-None-Match': '"other"' })).status, 200);
  });

  it('If-Modified-Since → 304, unless the file is newer', async () => {
    const res = await get({ 'If-Modified-Since': lastModified });
    assert.equal(res.status, 304);
    const older = new Date(Date.parse(lastModified) - 60_000).toUTCString();
    const stale = await get({ 'If-Modified-Since': older });
    assert.equal(stale.status, 200);
  });

  it('If-Range: a weak or different ETag sends the full body, the exact date honours the range', async () => {
    const etag = (await get({}, 'file.txt', 'HEAD')).headers('etag') ?? '';
    for (const ifRange of [etag, '"different"', 'Mon, 01 Jan 2001 00:00:00 GMT']) {
      const res = await get({ Range: 'bytes=0-6', 'If-Range': ifRange });
      assert.equal(res.status, 200, ifRange);
      assert.equal(res.body, CONTENT);
    }
    const res = await get({ Range: 'bytes=0-6', 'If-Range': lastModified });
    assert.equal(res.status, 206);
    assert.equal(res.body, 'Hello, ');
  });

  it('If-Match and If-Unmodified-Since failures → 412', async () => {
    const ifMatch = await get({ 'If-Match': '"nope"' });
    assert.equal(ifMatch.status, 412);
    assert.equal((await get({ 'If-Match': '*' })).status, 200);
    const older = new Date(Date.parse(lastModified) - 60_000).toUTCString();
    const unmodified = await get({ 'If-Unmodified-Since': older });
    assert.equal(unmodified.status, 412);
    const ok = await get({ 'If-Unmodified-Since': lastModified });
    assert.equal(ok.status, 200);
  });

  it('missing file → 404', async () => {
    const res = await get({}, 'missing.txt');
    assert.equal(res.status, 404);
    assert.deepEqual(JSON.parse(res.body), { error: 'not found' });
  });

  for (const [name, route] of [
    ['fails mid-stream', 'broken'],
    ['is shorter than announced', 'short'],
  ]) {
    it(`a body that ${name} cuts the connection instead of hanging`, async () => {
      const res = await fetch(`${base}/${route}`, { signal: AbortSignal.timeout(5_000) });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-length'), '1000');
      await assert.rejects(res.arrayBuffer(), (error: Error) => error.name !== 'TimeoutError');
    });
  }
});
