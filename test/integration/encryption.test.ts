// Encrypted stores through the real path: nginx → app (decides) → nginx → worker (encrypts or
// decrypts) → disk or a signature-checking S3 (Swift s3api). The app never touches the bytes.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { validateConfig } from '../../src/config/load.js';
import { ciphertextSize, HEADER_BYTES, parseHeader, TAG_BYTES } from '../../src/crypto/format.js';
import { createLogger } from '../../src/observability/logger.js';
import { startSluice } from '../../src/server.js';
import { addKey, createKeyring } from '../../src/crypto/keyring.js';
import { download, request } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { startRedis, type RedisTestServer } from '../helpers/redis.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { startSwiftS3, s3ClientFor, type S3TestServer, s3StoreAccess } from '../helpers/swift.js';
import { bearer, testAuthConfig } from '../helpers/tokens.js';
import { sampleProcess } from '../../bench/lib/proc.js';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker.js';

const MIB = 1024 * 1024;
const CHUNK = 64 * 1024;
const SEALED = CHUNK + TAG_BYTES;
const BUCKET = 'vault';
const PASSWORD = 'correct horse battery staple';
const STORES = ['vault', 'cloud'] as const;
type StoreName = (typeof STORES)[number];

let s3: S3TestServer;
let client: S3Client;
let redis: RedisTestServer;
let stack: Stack;
let worker: WorkerProcess;
let settings: Record<string, unknown>;
let dir: string;
let fsRoot: string;
let keyringFile: string;
let alice: Record<string, string>;
let reader: Record<string, string>;

before(async () => {
  [s3, redis] = await Promise.all([startSwiftS3(), startRedis()]);
  client = s3ClientFor(s3);
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-crypt-'));
  fsRoot = path.join(dir, 'vault');
  await mkdir(fsRoot);
  keyringFile = path.join(dir, 'keyring.json');
  await createKeyring(keyringFile, PASSWORD, { id: 'k1', kdfCost: 2 ** 14 });
  settings = {
    stores: {
      vault: { type: 'fs', root: fsRoot, encrypted: true },
      cloud: {
        type: 's3',
        bucket: BUCKET,
        ...s3StoreAccess(s3),
        encrypted: true,
      },
    },
    auth: testAuthConfig,
    redisUrl: redis.url,
    rules: [
      { key: '*rest', when: [{ authenticated: true }] },
      { key: '*rest', actions: ['write'], when: [{ claim: 'uploader', equals: true }] },
      { key: '*rest', actions: ['transform'], when: [{ authenticated: true }] },
    ],
    uploads: { enabled: true, maxBytes: 400 * MIB },
    transform: { enabled: true, keys: ['736c75696365'], salts: ['73616c74'] },
    worker: { secret: 'crypt-worker-secret-0123456789abcdefghij' },
    encryption: { keyringFile, passwordFile: '/dev/fd/3', chunkSize: CHUNK },
  };
  stack = await startStack(settings, { worker: true, workerPassword: PASSWORD });
  worker = stack.worker as WorkerProcess;
  alice = await bearer('alice', { uploader: true });
  reader = await bearer('reader');
});

after(async () => {
  await worker?.stop();
  await stack?.stop();
  await redis?.stop();
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
});

function put(store: StoreName, key: string, body: Buffer, headers: Record<string, string> = alice): Promise<Response> {
  return fetch(`http://127.0.0.1:${stack.port}/files/_uploads/encrypted/${store}/${key}`, { method: 'PUT', headers, body });
}

async function stored(store: StoreName, key: string): Promise<Buffer> {
  if (store === 'vault') return readFile(path.join(fsRoot, key));
  const object = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

async function replaceStored(store: StoreName, key: string, bytes: Buffer): Promise<void> {
  if (store === 'vault') await writeFile(path.join(fsRoot, key), bytes);
  else await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: bytes }));
}

function get(store: StoreName, key: string, headers: Record<string, string> = {}, method = 'GET') {
  return request(stack.port, `/files/${store}/${key}`, { method, headers: { ...reader, ...headers } });
}

/** A GET that may be cut: how many bytes arrived and whether the response completed. */
function getOutcome(store: StoreName, key: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: stack.port, path: `/files/${store}/${key}`, headers: { ...reader, ...headers }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        const finish = (complete: boolean): void => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), complete });
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => finish(res.complete));
        res.on('error', () => finish(false));
        res.on('aborted', () => finish(false));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** The worker's integrity-failure log lines so far. */
function integrityLines(): Record<string, unknown>[] {
  return worker
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes('"stored object failed verification"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The integrity lines written after the first `since` (one may lag behind a cut download). */
async function integrityLinesAfter(since: number, expected: number): Promise<Record<string, unknown>[]> {
  for (let i = 0; i < 100 && integrityLines().length < since + expected; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  await new Promise((resolve) => setTimeout(resolve, 100)); // and no more than that
  return integrityLines().slice(since);
}

/** sluice_worker_crypt_integrity_failures_total for one store and reason, from the worker's /metrics. */
async function integrityFailures(store: string, reason: string): Promise<number> {
  const text = (await request(worker.port, '/metrics')).text();
  const match = text.match(new RegExp(`^sluice_worker_crypt_integrity_failures_total\\{store="${store}",reason="${reason}"\\} (\\d+)$`, 'm'));
  assert.ok(match, `no ${store}/${reason} series in the worker's metrics`);
  return Number(match[1]);
}

for (const store of STORES) {
  describe(`encrypted ${store === 'vault' ? 'fs' : 's3'} store "${store}": round trips`, () => {
    for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1]) {
      it(`${size} bytes: stored as ciphertext, downloaded as the same bytes`, async () => {
        const plain = randomBytes(size);
        const key = `sizes/${size}.bin`;
        const answer = await put(store, key, plain);
        assert.equal(answer.status, 201, await answer.clone().text());
        assert.deepEqual(await answer.json(), { store, key, size, keyId: 'k1' });
        const atRest = await stored(store, key);
        assert.equal(atRest.length, ciphertextSize(size, CHUNK));
        assert.equal(parseHeader(atRest).keyId, 'k1');
        if (size >= 16) assert.equal(atRest.indexOf(plain.subarray(0, 16)), -1, 'no plaintext at rest');
        const back = await get(store, key);
        assert.equal(back.status, 200);
        assert.equal(back.headers['content-length'], String(size));
        assert.deepEqual(back.body, plain);
      });
    }

    it("300 MiB streams up and down unchanged, the worker's memory bounded", async (t) => {
      const plain = randomBytes(300 * MIB);
      const sampler = sampleProcess(worker.pid, 50);
      const answer = await put(store, 'big/300m.bin', plain);
      assert.equal(answer.status, 201, await answer.clone().text());
      const back = await download(stack.port, `/files/${store}/big/300m.bin`, reader);
      const samples = sampler.stop();
      assert.equal(back.status, 200);
      assert.equal(back.bytes, plain.length);
      assert.equal(back.sha256, sha256(plain));
      const first = (samples[0] as { rssBytes: number }).rssBytes;
      const peak = Math.max(...samples.map((sample) => sample.rssBytes));
      t.diagnostic(`worker RSS ${(first / MIB).toFixed(0)} MiB before, peak ${(peak / MIB).toFixed(0)} MiB while 300 MiB went up and down`);
      // Streams hold a chunk or two (S3: two 8 MiB parts in flight); never the object.
      assert.ok(peak - first < 96 * MIB, `worker RSS grew by ${((peak - first) / MIB).toFixed(0)} MiB`);
    });
  });

  describe(`encrypted ${store === 'vault' ? 'fs' : 's3'} store "${store}": HTTP semantics`, () => {
    const plain = randomBytes(3 * CHUNK + 100);
    before(async () => {
      assert.equal((await put(store, 'ranges.bin', plain)).status, 201);
    });

    it('ranges at and across chunk boundaries match the plaintext', async () => {
      const edges = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK - 1, 2 * CHUNK, 3 * CHUNK, plain.length - 1];
      for (const start of edges) {
        for (const end of edges.filter((e) => e >= start)) {
          const part = await get(store, 'ranges.bin', { Range: `bytes=${start}-${end}` });
          assert.equal(part.status, 206, `${start}-${end}`);
          assert.equal(part.headers['content-range'], `bytes ${start}-${end}/${plain.length}`);
          assert.deepEqual(part.body, plain.subarray(start, end + 1), `${start}-${end}`);
        }
      }
    });

    it('suffix and open-ended ranges; unsatisfiable → 416; multiple ranges → the whole body', async () => {
      const suffix = await get(store, 'ranges.bin', { Range: 'bytes=-100' });
      assert.equal(suffix.status, 206);
      assert.deepEqual(suffix.body, plain.subarray(plain.length - 100));
      const open = await get(store, 'ranges.bin', { Range: `bytes=${CHUNK + 7}-` });
      assert.deepEqual(open.body, plain.subarray(CHUNK + 7));
      const beyond = await get(store, 'ranges.bin', { Range: `bytes=${plain.length}-` });
      assert.equal(beyond.status, 416);
      assert.equal(beyond.headers['content-range'], `bytes */${plain.length}`);
      const multi = await get(store, 'ranges.bin', { Range: 'bytes=0-1,5-6' });
      assert.equal(multi.status, 200);
      assert.deepEqual(multi.body, plain);
    });

    it('parallel range downloads reassemble the object', async () => {
      const slice = Math.ceil(plain.length / 7);
      const parts = await Promise.all(
        Array.from({ length: 7 }, (_, i) => get(store, 'ranges.bin', { Range: `bytes=${i * slice}-${Math.min(plain.length, (i + 1) * slice) - 1}` })),
      );
      assert.deepEqual(Buffer.concat(parts.map((p) => p.body)), plain);
    });

    it('HEAD, ETag and If-None-Match behave like a plain download', async () => {
      const head = await get(store, 'ranges.bin', {}, 'HEAD');
      assert.equal(head.status, 200);
      assert.equal(head.headers['content-length'], String(plain.length));
      assert.equal(head.headers['accept-ranges'], 'bytes');
      assert.equal(head.body.length, 0);
      const etag = head.headers.etag as string;
      assert.match(etag, /^"[A-Za-z0-9_-]+"$/);
      assert.equal((await get(store, 'ranges.bin', { 'If-None-Match': etag })).status, 304);
      const stale = await get(store, 'ranges.bin', { Range: 'bytes=0-9', 'If-Range': '"other"' });
      assert.equal(stale.status, 200);
    });

    it("the type and disposition are the app's, and the worker's ticket never reaches the client", async () => {
      assert.equal((await put(store, 'report.pdf', Buffer.from('%PDF-1.7 tiny'))).status, 201);
      const answer = await get(store, 'report.pdf');
      assert.equal(answer.headers['content-type'], 'application/pdf');
      assert.equal(answer.headers['x-content-type-options'], 'nosniff');
      for (const name of Object.keys(answer.headers)) assert.doesNotMatch(name, /sluice|accel/i);
    });

    it('without a token → 401; an upload without the write grant → 403; a second write of a key is refused', async () => {
      assert.equal((await request(stack.port, `/files/${store}/ranges.bin`)).status, 401);
      assert.equal((await put(store, 'denied.bin', Buffer.from('x'), reader)).status, 403);
      assert.equal((await get(store, 'denied.bin')).status, 404);
      const again = await put(store, 'ranges.bin', Buffer.from('overwrite attempt'));
      assert.ok([403, 409].includes(again.status), `status ${again.status}`);
      assert.deepEqual((await get(store, 'ranges.bin')).body, plain);
    });
  });

  describe(`encrypted ${store === 'vault' ? 'fs' : 's3'} store "${store}": damage`, () => {
    // Big enough that the damaged chunk below lies beyond the worker's first read of the file.
    const plain = randomBytes(8 * CHUNK + 100);
    let original: Buffer;
    before(async () => {
      assert.equal((await put(store, 'damage.bin', plain)).status, 201);
      original = await stored(store, 'damage.bin');
    });
    after(async () => replaceStored(store, 'damage.bin', original));

    const flip = (bytes: Buffer, at: number): Buffer => {
      const copy = Buffer.from(bytes);
      copy[at] = (copy[at] as number) ^ 0x01;
      return copy;
    };

    it('a tampered first chunk → 502 JSON before any byte; the worker logs store, key, chunk 0 and reason once, and counts it', async () => {
      const [lines, counted] = [integrityLines().length, await integrityFailures(store, 'authentication')];
      await replaceStored(store, 'damage.bin', flip(original, HEADER_BYTES + 10));
      const answer = await get(store, 'damage.bin');
      assert.equal(answer.status, 502);
      assert.deepEqual(answer.json(), { error: 'storage error' });
      const logged = await integrityLinesAfter(lines, 1);
      assert.equal(logged.length, 1);
      assert.deepEqual(logged[0]?.integrity, {
        store,
        key: 'damage.bin',
        chunk: 0,
        reason: 'authentication',
        detail: 'chunk failed authentication',
        use: 'read',
        afterHeaders: false,
      });
      assert.equal(typeof logged[0]?.requestId, 'string');
      assert.equal(await integrityFailures(store, 'authentication'), counted + 1);
    });

    it('a tampered later chunk → the download is cut after the verified chunks, never garbage — and still logged once', async () => {
      const [lines, counted] = [integrityLines().length, await integrityFailures(store, 'authentication')];
      await replaceStored(store, 'damage.bin', flip(original, HEADER_BYTES + 6 * SEALED + 10));
      const outcome = await getOutcome(store, 'damage.bin');
      assert.equal(outcome.status, 200);
      assert.equal(outcome.complete, false);
      assert.ok(outcome.body.length <= 6 * CHUNK, `${outcome.body.length} bytes`);
      assert.deepEqual(outcome.body, plain.subarray(0, outcome.body.length));
      const cut = await integrityLinesAfter(lines, 1);
      assert.deepEqual(
        cut.map((l) => l.integrity),
        [{ store, key: 'damage.bin', chunk: 6, reason: 'authentication', detail: 'chunk failed authentication', use: 'read', afterHeaders: true }],
      );
      // A range starting in that chunk fails before any byte.
      assert.equal((await get(store, 'damage.bin', { Range: `bytes=${6 * CHUNK}-${6 * CHUNK + 5}` })).status, 502);
      const ranged = await integrityLinesAfter(lines + 1, 1);
      assert.deepEqual(
        ranged.map((l) => l.integrity as { chunk: number; afterHeaders: boolean }),
        [{ store, key: 'damage.bin', chunk: 6, reason: 'authentication', detail: 'chunk failed authentication', use: 'read', afterHeaders: false }],
      );
      assert.equal(await integrityFailures(store, 'authentication'), counted + 2);
    });

    it('truncated (a whole chunk dropped, or cut mid-chunk): a range there → 502, a full read is cut after verified bytes', async () => {
      const dropped = Buffer.concat([original.subarray(0, HEADER_BYTES + 6 * SEALED), original.subarray(HEADER_BYTES + 7 * SEALED)]);
      const cut = original.subarray(0, original.length - 50);
      const lines = integrityLines().length;
      for (const damaged of [dropped, cut]) {
        await replaceStored(store, 'damage.bin', damaged);
        // The end of the object is where the damage is.
        assert.equal((await get(store, 'damage.bin', { Range: 'bytes=-10' })).status, 502);
        const outcome = await getOutcome(store, 'damage.bin');
        assert.equal(outcome.complete, false);
        assert.deepEqual(outcome.body, plain.subarray(0, outcome.body.length), 'only verified plaintext arrived');
      }
      // Four failed requests (two refused ranges, two cut downloads): four lines, none missing, none doubled.
      const logged = await integrityLinesAfter(lines, 4);
      assert.equal(logged.length, 4);
      for (const line of logged)
        assert.deepEqual([(line.integrity as { store: string }).store, (line.integrity as { key: string }).key], [store, 'damage.bin']);
    });

    it('reordered chunks → 502', async () => {
      const chunk = (i: number): Buffer => original.subarray(HEADER_BYTES + i * SEALED, HEADER_BYTES + (i + 1) * SEALED);
      const swapped = Buffer.concat([original.subarray(0, HEADER_BYTES), chunk(1), chunk(0), original.subarray(HEADER_BYTES + 2 * SEALED)]);
      await replaceStored(store, 'damage.bin', swapped);
      const lines = integrityLines().length;
      assert.equal((await get(store, 'damage.bin')).status, 502);
      assert.deepEqual(
        (await integrityLinesAfter(lines, 1)).map((l) => [(l.integrity as { chunk: number }).chunk, (l.integrity as { reason: string }).reason]),
        [[0, 'authentication']],
      );
    });

    it("another object's ciphertext copied over this key (a swap in the bucket) → 502, not the other file", async () => {
      assert.equal((await put(store, 'other.bin', randomBytes(100))).status, 201);
      await replaceStored(store, 'damage.bin', await stored(store, 'other.bin'));
      assert.equal((await get(store, 'damage.bin')).status, 502);
    });

    it('a plaintext file dropped into the store is refused, not served', async () => {
      // Longer than a header, so it is the header (not the size) that gives it away.
      await replaceStored(store, 'damage.bin', Buffer.from('this was never encrypted by Sluice, a plain file. '.repeat(4)));
      const lines = integrityLines().length;
      assert.equal((await get(store, 'damage.bin')).status, 502);
      const logged = await integrityLinesAfter(lines, 1);
      assert.deepEqual(
        logged.map((l) => [(l.integrity as { chunk: unknown }).chunk, (l.integrity as { reason: string }).reason]),
        [[null, 'header']],
      );
      assert.equal(JSON.stringify(logged).includes('never encrypted'), false, 'no stored bytes in the log');
    });
  });
}

describe('write-once for encrypted uploads', () => {
  for (const store of STORES) {
    it(`${store}: five concurrent PUTs of one key → exactly one 201, and the stored object is the winner's`, async () => {
      const bodies = Array.from({ length: 5 }, (_, i) => Buffer.from(`candidate ${i} `.repeat(1000)));
      const answers = await Promise.all(bodies.map((body) => put(store, 'race/one.bin', body)));
      const statuses = answers.map((a) => a.status);
      assert.equal(statuses.filter((s) => s === 201).length, 1, statuses.join(','));
      assert.ok(
        statuses.every((s) => [201, 403, 409].includes(s)),
        statuses.join(','),
      );
      const winner = bodies[statuses.indexOf(201)] as Buffer;
      assert.deepEqual((await get(store, 'race/one.bin')).body, winner);
    });
  }

  it('a second app instance sharing Redis refuses the key while the first holds it (S3)', async () => {
    const second = await startSluice(validateConfig({ ...settings, host: '127.0.0.1', appPort: 0 }), { logger: createLogger('silent') });
    try {
      const auth = (key: string) =>
        request(second.port, '/_sluice/upload-auth', {
          headers: { ...alice, 'X-Original-URI': `/files/_uploads/encrypted/cloud/${key}`, 'X-Original-Method': 'PUT' },
        });
      assert.equal((await put('cloud', 'shared/held.bin', Buffer.from('first'))).status, 201);
      // nginx's auth_request only passes 2xx/401/403: a held key is a 403 there.
      assert.equal((await auth('shared/held.bin')).status, 403);
      const fresh = await auth('shared/fresh.bin');
      assert.equal(fresh.status, 204);
      assert.ok(fresh.headers['x-sluice-crypt-ticket'], 'the allowed upload carries the worker ticket');
    } finally {
      await second.close();
    }
  });
});

describe('image transforms of encrypted sources', () => {
  it('the worker decrypts the source in memory and renders it; the source stays ciphertext at rest', async () => {
    const sharp = (await import('sharp')).default;
    const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 30, b: 30 } } })
      .png()
      .toBuffer();
    for (const store of STORES) {
      assert.equal((await put(store, 'img/red.png', png)).status, 201);
      assert.notEqual((await stored(store, 'img/red.png')).subarray(0, 6).toString(), png.subarray(0, 6).toString());
      const res = await request(stack.port, `/images/${store}/img/red.png?w=16&f=png`, { headers: reader });
      assert.equal(res.status, 200, res.text());
      const meta = await sharp(res.body).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['png', 16, 12]);
    }
  });
});

describe('the worker tier', () => {
  it('refuses a request without a ticket (straight to its port)', async () => {
    const direct = await request(worker.port, '/crypt/read');
    assert.equal(direct.status, 403);
    const write = await fetch(`http://127.0.0.1:${worker.port}/crypt/write`, { method: 'PUT', body: 'x' });
    assert.equal(write.status, 403);
  });

  it('a wrong master password stops the worker at start-up with a message naming the setting', async () => {
    const attempt = startWorkerProcess({ ...settings, worker: { ...(settings.worker as object), port: await freePort() } }, dir, {
      password: 'wrong password',
    });
    await assert.rejects(attempt, (error: Error) => {
      assert.match(error.message, /encryption\.passwordFile/);
      assert.match(error.message, /wrong master password/);
      return true;
    });
  });

  it('key rotation: old objects stay readable, new ones use the new key', async () => {
    const before = randomBytes(1000);
    assert.equal((await put('vault', 'rotation/old.bin', before)).status, 201);
    await addKey(keyringFile, PASSWORD, { id: 'k2' });
    // The keyring is read at start-up: restart the worker on the same port.
    await worker.stop();
    worker = await startWorkerProcess({ ...settings, worker: { ...(settings.worker as object), port: stack.config.worker.port } }, dir, { password: PASSWORD });
    const after = randomBytes(1000);
    const answer = await put('vault', 'rotation/new.bin', after);
    assert.equal(((await answer.json()) as { keyId: string }).keyId, 'k2');
    assert.equal(parseHeader(await stored('vault', 'rotation/new.bin')).keyId, 'k2');
    assert.equal(parseHeader(await stored('vault', 'rotation/old.bin')).keyId, 'k1');
    assert.deepEqual((await get('vault', 'rotation/old.bin')).body, before);
    assert.deepEqual((await get('vault', 'rotation/new.bin')).body, after);
  });
});
