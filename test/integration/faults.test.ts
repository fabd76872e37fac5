// Fault injection through real nginx, real Swift s3api, real Redis and a real worker process:
// storage refused, slow and cut mid-download (a loopback proxy in front of Swift), storage
// stopped, Redis stopped and restarted, the worker killed and restarted, the app restarted during
// a download. Each fault: a clear status and short body, a log line, /readyz reflecting it, and
// recovery without restarting Sluice.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { validateConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/observability/logger.js';
import { startSluice } from '../../src/server.js';
import { startDelayProxy, type DelayProxy } from '../helpers/delay-proxy.js';
import { request, type RawResponse } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { s3ClientFor, startSwiftS3, type S3TestServer } from '../helpers/swift.js';
import { bearer, testAuthConfig } from '../helpers/tokens.js';
import { signImgproxyPath, startWorkerProcess, type WorkerProcess } from '../helpers/worker.js';
import { startRedis, type RedisTestServer } from '../helpers/redis.js';
import { spawnSluice } from '../helpers/cli-process.js';

const BUCKET = 'media';
const BIG = randomBytes(8 * 1024 * 1024);
const BIG_SHA = createHash('sha256').update(BIG).digest('hex');
const KEY = Buffer.from('faults-key').toString('hex');
const SALT = Buffer.from('faults-salt').toString('hex');
const LINK_KEY = { kid: 'f1', secret: 'faults-share-link-secret-0123456789abcdef' };

let base: string;
let s3: S3TestServer;
let proxy: DelayProxy;
let redis: RedisTestServer | undefined;
let redisPort: number;
let stack: Stack;
let rawConfig: Record<string, unknown>;
let alice: Record<string, string>;
const extraWorkers: WorkerProcess[] = [];

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(check: () => Promise<boolean>, what: string, tries = 100): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await sleep(100);
  }
  assert.fail(`never happened: ${what}`);
}

const get = (rawPath: string, headers: Record<string, string> = {}): Promise<RawResponse> => request(stack.port, rawPath, { headers });
const readyz = async (): Promise<RawResponse> => request(stack.app.port, '/readyz');

interface PartialDownload {
  readonly status: number;
  readonly bytes: number;
  readonly complete: boolean;
}

/** Reads a download to its end or its abort, whichever comes. */
function downloadAllowingCut(port: number, rawPath: string, headers: Record<string, string>): Promise<PartialDownload> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: rawPath, headers, agent: false }, (res) => {
      let bytes = 0;
      let done = false;
      const finish = (complete: boolean): void => {
        if (done) return;
        done = true;
        resolve({ status: res.statusCode ?? 0, bytes, complete });
      };
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => finish(res.complete));
      res.on('aborted', () => finish(false));
      res.on('error', () => finish(false));
      res.on('close', () => finish(res.complete));
    });
    req.on('error', reject);
  });
}

before(async () => {
  const swift = startSwiftS3();
  base = await mkdtemp(path.join(os.tmpdir(), 'sluice-faults-'));
  await chmod(base, 0o755);
  const root = path.join(base, 'photos');
  await mkdir(root, { recursive: true });
  await writeFile(
    path.join(root, 'photo.png'),
    await sharp({ create: { width: 1600, height: 1200, channels: 3, background: { r: 90, g: 20, b: 200 } } })
      .png()
      .toBuffer(),
  );
  await writeFile(path.join(root, 'large.bin'), randomBytes(48 * 1024 * 1024));
  redisPort = await freePort();
  redis = await startRedis({ port: redisPort });
  s3 = await swift;
  const client = s3ClientFor(s3);
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'small.txt', Body: 'small object' }));
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'big.bin', Body: BIG }));
  proxy = await startDelayProxy(Number(new URL(s3.endpoint).port));
  const viaProxy = { type: 's3', bucket: BUCKET, endpoint: proxy.url, forcePathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey };
  rawConfig = {
    stores: { media: viaProxy, streamed: { ...viaProxy, delivery: 'stream' }, photos: { type: 'fs', root } },
    auth: testAuthConfig,
    rules: [{ id: 'alice', key: '*rest', actions: ['read', 'head', 'share', 'transform'], when: [{ claim: 'sub', equals: 'alice' }] }],
    redisUrl: `redis://127.0.0.1:${redisPort}`,
    sharing: { keys: [LINK_KEY], rateLimit: { requestsPerSecond: 1000, burst: 1000 } },
    transform: { enabled: true, keys: [KEY], salts: [SALT], localStore: 'photos' },
    worker: { secret: 'faults-worker-secret-0123456789abcdef', concurrency: 1, queueSize: 4 },
    ops: { storageTimeoutSeconds: 2 },
  };
  stack = await startStack(rawConfig, { worker: true });
  alice = await bearer('alice');
});

after(async () => {
  await stack?.stop();
  for (const worker of extraWorkers) await worker.stop();
  await proxy?.close();
  await redis?.stop();
  await s3?.stop();
  if (base !== undefined) await rm(base, { recursive: true, force: true });
});

describe('storage faults (S3 behind a loopback proxy)', () => {
  it('storage refusing connections: 502 {"error":"storage error"} (nginx mode) / 502 from the app (stream), /readyz 503, then recovery', async () => {
    assert.equal((await readyz()).status, 200);
    proxy.setMode({ kind: 'refuse' });
    const viaNginx = await get('/files/media/small.txt', alice);
    assert.equal(viaNginx.status, 502);
    assert.deepEqual(viaNginx.json(), { error: 'storage error' });
    const streamed = await get('/files/streamed/small.txt', alice);
    assert.equal(streamed.status, 502);
    assert.match(streamed.text(), /^\{"error":"storage [a-z ]+"\}\n?$/);
    const ready = await readyz();
    assert.equal(ready.status, 503);
    assert.deepEqual((ready.json() as { failing: string[] }).failing.sort(), ['media', 'streamed']);
    assert.match(stack.nginx.stderr(), /(connect\(\) failed|Connection reset|upstream prematurely closed|recv\(\) failed)/);
    assert.ok(
      stack.logs().some((l) => l.level === 50 || l.level === 40),
      'the app logged the stream-mode storage failure',
    );
    proxy.setMode({ kind: 'pass' });
    assert.equal((await get('/files/media/small.txt', alice)).text(), 'small object');
    assert.equal((await get('/files/streamed/small.txt', alice)).text(), 'small object');
    assert.equal((await readyz()).status, 200);
  });

  it('slow storage: nginx gives up after ops.storageTimeoutSeconds with 502, no hang; recovery after', async () => {
    proxy.setMode({ kind: 'delay', ms: 4000 });
    const res = await get('/files/media/small.txt', alice);
    assert.equal(res.status, 502);
    assert.deepEqual(res.json(), { error: 'storage error' });
    assert.match(stack.nginx.stderr(), /upstream timed out/);
    proxy.setMode({ kind: 'pass' });
    assert.equal((await get('/files/media/small.txt', alice)).text(), 'small object');
  });

  it('storage cut mid-download: the client sees a short, aborted transfer — never a "complete" wrong file', async () => {
    const whole = await downloadAllowingCut(stack.port, '/files/media/big.bin', alice);
    assert.deepEqual(whole, { status: 200, bytes: BIG.length, complete: true });
    proxy.setMode({ kind: 'cut', afterBytes: 1024 * 1024 });
    const cut = await downloadAllowingCut(stack.port, '/files/media/big.bin', alice);
    assert.equal(cut.status, 200); // the headers were already sent
    assert.equal(cut.complete, false);
    assert.ok(cut.bytes < BIG.length);
    assert.match(stack.nginx.stderr(), /upstream prematurely closed|recv\(\) failed|Connection reset/);
    proxy.setMode({ kind: 'pass' });
    const again = await request(stack.port, '/files/media/big.bin', { headers: alice });
    assert.equal(createHash('sha256').update(again.body).digest('hex'), BIG_SHA);
  });
});

describe('Redis stopped and restarted', () => {
  it('one-time links fail closed (503), rate limits fail open, /readyz names redis; all recover on restart', async () => {
    const mint = async (): Promise<string> => {
      const res = await fetch(`http://127.0.0.1:${stack.port}/files/_share`, {
        method: 'POST',
        headers: { ...alice, 'Content-Type': 'application/json' },
        body: JSON.stringify({ store: 'photos', key: 'photo.png', expiresIn: 600, maxDownloads: 1 }),
      });
      assert.equal(res.status, 201);
      return ((await res.json()) as { url: string }).url;
    };
    const link = await mint();
    await redis?.stop();
    const closed = await get(link);
    assert.equal(closed.status, 503);
    assert.match(closed.text(), /^\{"error":"[a-z ]+"\}\n?$/);
    const open = await get('/files/media/small.txt', alice);
    assert.equal(open.status, 200, 'rate limiting fails open');
    const ready = await readyz();
    assert.equal(ready.status, 503);
    assert.deepEqual(ready.json(), { status: 'not ready', failing: ['redis'] });
    assert.ok(stack.logs().some((l) => l.msg === 'redis error' || l.msg === 'rate limiter unavailable: requests are not limited'));

    redis = await startRedis({ port: redisPort });
    await eventually(async () => (await readyz()).status === 200, 'readyz back to 200 after Redis restart');
    // Fresh Redis (no persistence): the earlier link's count is gone, so mint a new one.
    const fresh = await mint();
    assert.equal((await get(fresh)).status, 200);
    assert.equal((await get(fresh)).status, 410, 'counted again: used up after one download');
  });
});

describe('transform worker killed', () => {
  it("answers 503 while the worker is gone and recovers once it is restarted (supervision is the process manager's job)", async () => {
    const url = (n: number): string => `/img${signImgproxyPath(`/rs:fit:${n}:${n}/bl:3/plain/local:///photo.png@png`, KEY, SALT)}`;
    assert.equal((await get(url(300), alice)).status, 200);
    const worker = stack.worker as WorkerProcess;
    // Killed while a render is in flight: that request fails (never a truncated 200).
    const inFlight = get(url(1500), alice);
    await sleep(50);
    process.kill(worker.pid, 'SIGKILL');
    const interrupted = await inFlight;
    if (interrupted.status === 200) assert.equal((await sharp(interrupted.body).metadata()).width, 1500);
    else assert.equal(interrupted.status, 503);
    const gone = await get(url(301), alice);
    assert.equal(gone.status, 503);
    assert.match(gone.text(), /^\{"error":"[a-z ]+"\}\n?$/);
    assert.match(stack.nginx.stderr(), /connect\(\) failed|prematurely closed|Connection refused/);
    const settings = { ...rawConfig, host: '127.0.0.1', worker: { ...(rawConfig.worker as object), port: stack.config.worker.port } };
    extraWorkers.push(await startWorkerProcess(settings, stack.dir));
    await eventually(async () => (await get(url(302), alice)).status === 200, 'transforms served again after the worker restart');
  });
});

describe('storage stopped for good', () => {
  it('Swift stopped: 502 and /readyz 503, no hang', async () => {
    await s3.stop();
    const res = await get('/files/media/small.txt', alice);
    assert.equal(res.status, 502);
    assert.deepEqual(res.json(), { error: 'storage error' });
    assert.equal((await get('/files/streamed/small.txt', alice)).status, 502);
    assert.equal((await readyz()).status, 503);
  });
});

describe('app restarted during a download', () => {
  it('nginx keeps streaming what it started (X-Accel offload); requests meanwhile get a JSON 503; the new app serves again', async () => {
    const started = new Promise<{ res: http.IncomingMessage }>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: stack.port, path: '/files/photos/large.bin', headers: alice, agent: false }, (res) => resolve({ res }))
        .on('error', reject);
    });
    const { res } = await started;
    assert.equal(res.statusCode, 200);
    res.pause();
    await stack.app.close();
    const meanwhile = await get('/files/photos/photo.png', alice);
    assert.equal(meanwhile.status, 503);
    assert.deepEqual(meanwhile.json(), { error: 'service unavailable' });
    assert.equal(meanwhile.headers['retry-after'], '5');
    const hash = createHash('sha256');
    let bytes = 0;
    res.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      hash.update(chunk);
    });
    res.resume();
    await new Promise((resolve) => res.on('end', resolve));
    assert.equal(bytes, 48 * 1024 * 1024);
    assert.equal(res.complete, true);
    const restarted = await startSluice(
      validateConfig({ ...rawConfig, host: '127.0.0.1', port: stack.port, worker: { ...(rawConfig.worker as object), port: stack.config.worker.port } }),
      {
        port: stack.app.port,
        logger: createLogger('silent'),
      },
    );
    try {
      await eventually(async () => (await get('/files/photos/photo.png', alice)).status === 200, 'downloads after the app restart');
    } finally {
      await restarted.close();
    }
  });
});

describe('operations: /ping maintenance mode and graceful shutdown of `sluice serve`', () => {
  it('/ping answers 404 while the maintenance file exists, 200 otherwise; /healthz stays 200', async () => {
    const flag = path.join(base, 'maintenance');
    const config = validateConfig({
      stores: { photos: { type: 'fs', root: path.join(base, 'photos') } },
      host: '127.0.0.1',
      appPort: 0,
      ops: { maintenanceFile: flag },
    });
    const app = await startSluice(config, { logger: createLogger('silent') });
    try {
      assert.deepEqual((await request(app.port, '/ping')).json(), { status: 'ok' });
      await writeFile(flag, '');
      const draining = await request(app.port, '/ping');
      assert.equal(draining.status, 404);
      assert.deepEqual(draining.json(), { status: 'maintenance' });
      assert.equal(draining.headers['cache-control'], 'no-store');
      assert.equal((await request(app.port, '/healthz')).status, 200);
      await rm(flag);
      assert.equal((await request(app.port, '/ping')).status, 200);
    } finally {
      await app.close();
    }
  });

  it('SIGTERM: stops accepting, finishes the in-flight decision, exits 0', async () => {
    // A webhook that answers slowly keeps one decision in flight while the signal arrives.
    let webhookCalled!: () => void;
    const called = new Promise<void>((resolve) => (webhookCalled = resolve));
    const webhook = http.createServer((req, res) => {
      webhookCalled();
      req.resume();
      setTimeout(() => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"allow":true}'), 1000);
    });
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
    const appPort = await freePort();
    const configFile = path.join(base, 'serve-config.json');
    await writeFile(
      configFile,
      JSON.stringify({
        stores: { photos: { type: 'fs', root: path.join(base, 'photos'), delivery: 'stream' } },
        host: '127.0.0.1',
        appPort,
        auth: testAuthConfig,
        rules: [{ id: 'ask', effect: 'delegate', to: 'webhook' }],
        policy: { webhook: { url: `http://127.0.0.1:${(webhook.address() as net.AddressInfo).port}/decide`, timeoutMs: 5000 }, cache: { maxEntries: 0 } },
        ops: { shutdownGraceMs: 5000 },
      }),
    );
    const sluice = spawnSluice(['serve'], { SLUICE_CONFIG: configFile });
    const { child, exited } = sluice;
    try {
      await eventually(async () => (await request(appPort, '/healthz').catch(() => null))?.status === 200, `sluice serve listening\n${sluice.output()}`);
      const inFlight = request(appPort, '/files/photos/photo.png', { headers: alice });
      await called;
      child.kill('SIGTERM');
      await eventually(
        async () =>
          request(appPort, '/healthz').then(
            () => false,
            (error: NodeJS.ErrnoException) => error.code === 'ECONNREFUSED',
          ),
        'new connections refused after SIGTERM',
      );
      const res = await inFlight;
      assert.equal(res.status, 200, sluice.output());
      assert.equal(res.headers['content-type'], 'image/png');
      assert.equal(await exited, 0, sluice.output());
      assert.match(sluice.output(), /SIGTERM received/);
      assert.match(sluice.output(), /sluice app stopped/);
    } finally {
      child.kill('SIGKILL');
      await new Promise<void>((resolve) => webhook.close(() => resolve()));
    }
  });
});
