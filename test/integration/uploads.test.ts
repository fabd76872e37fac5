// Uploads through real nginx to a real, signature-checking S3 (Swift s3api), with write-once
// reservations in a real Redis shared by two app instances.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { validateConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/observability/logger.js';
import { startSluice, type RunningSluice } from '../../src/server.js';
import { download, keyPath, request } from '../helpers/http.js';
import { startRedis, type RedisTestServer } from '../helpers/redis.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { startSwiftS3, s3ClientFor, type S3TestServer } from '../helpers/swift.js';
import { bearer, testAuthConfig } from '../helpers/tokens.js';

const BUCKET = 'uploads';
const MIB = 1024 * 1024;
const MAX_BYTES = 600 * MIB;

let s3: S3TestServer;
let client: S3Client;
let redis: RedisTestServer;
let stack: Stack;
let second: RunningSluice;
let alice: Record<string, string>;
let bob: Record<string, string>;
let fsRoot: string;

type Plan = {
  method: string;
  url?: string;
  headers?: Record<string, string>;
  expiresAt: string;
  uploadId?: string;
  partSize?: number;
  parts?: { partNumber: number; size: number; url: string }[];
};

before(async () => {
  [s3, redis] = await Promise.all([startSwiftS3(), startRedis()]);
  client = s3ClientFor(s3);
  fsRoot = await mkdtemp(path.join(os.tmpdir(), 'sluice-uploads-fs-'));
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'existing.txt', Body: 'already here' }));
  const settings = {
    stores: {
      docs: { type: 'fs', root: fsRoot },
      media: { type: 's3', bucket: BUCKET, endpoint: s3.endpoint, forcePathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    },
    auth: testAuthConfig,
    redisUrl: redis.url,
    rules: [
      { key: '*rest', when: [{ authenticated: true }] },
      { key: '*rest', actions: ['write'], when: [{ claim: 'uploader', equals: true }] },
    ],
    uploads: {
      enabled: true,
      maxBytes: MAX_BYTES,
      allowedContentTypes: ['text/plain', 'application/octet-stream'],
      multipartThresholdBytes: 8 * MIB,
      partSizeBytes: 5 * MIB,
    },
  };
  stack = await startStack(settings);
  // A second app instance sharing the same Redis (called directly, without nginx).
  second = await startSluice(validateConfig({ ...settings, host: '127.0.0.1', appPort: 0 }), { logger: createLogger('silent') });
  alice = await bearer('alice', { uploader: true });
  bob = await bearer('bob');
});

after(async () => {
  await second?.close();
  await stack?.stop();
  await redis?.stop();
  await s3?.stop();
  await rm(fsRoot, { recursive: true, force: true });
});

function plan(body: Record<string, unknown>, headers: Record<string, string> = alice, port = stack.port): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}/files/_uploads`, {
    method: 'POST',
    headers: { ...headers, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function planned(body: Record<string, unknown>): Promise<Plan> {
  const res = await plan(body);
  assert.equal(res.status, 201, await res.clone().text());
  assert.equal(res.headers.get('cache-control'), 'no-store');
  return (await res.json()) as Plan;
}

describe('single presigned PUT', () => {
  it('round-trips: upload to S3 with the presigned URL, download through Sluice', async () => {
    const bytes = randomBytes(100_000);
    const p = await planned({ store: 'media', key: 'docs/café report.txt', size: bytes.length, contentType: 'text/plain' });
    assert.equal(p.method, 'PUT');
    assert.ok(p.url !== undefined && Date.parse(p.expiresAt) > Date.now());
    const put = await fetch(p.url, { method: 'PUT', headers: p.headers, body: bytes });
    assert.equal(put.status, 200, await put.text());
    const res = await request(stack.port, `/files/media/${keyPath('docs/café report.txt')}`, { headers: alice });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, bytes);
  });

  it('S3 refuses a PUT with another length or content type than the signed ones', async () => {
    const p = await planned({ store: 'media', key: 'signed/bound.txt', size: 5, contentType: 'text/plain' });
    const url = p.url as string;
    const longer = await fetch(url, { method: 'PUT', headers: { 'Content-Type': 'text/plain' }, body: '123456' });
    assert.equal(longer.status, 403);
    const otherType = await fetch(url, { method: 'PUT', headers: { 'Content-Type': 'text/html' }, body: '12345' });
    assert.equal(otherType.status, 403);
    const exact = await fetch(url, { method: 'PUT', headers: { 'Content-Type': 'text/plain' }, body: '12345' });
    assert.equal(exact.status, 200);
  });

  it('is write-once across two app instances sharing Redis', async () => {
    const body = { store: 'media', key: 'once/shared.bin', size: 10, contentType: 'application/octet-stream' };
    assert.equal((await plan(body, alice, second.port)).status, 201);
    const again = await plan(body);
    assert.equal(again.status, 409);
    assert.deepEqual(await again.json(), { error: 'key already written' });
    assert.equal((await plan(body, alice, second.port)).status, 409);
  });

  it('refuses a key that already exists in storage', async () => {
    const res = await plan({ store: 'media', key: 'existing.txt', size: 3, contentType: 'text/plain' });
    assert.equal(res.status, 409);
  });
});

describe('refusals', () => {
  it('401 without a token, 403 without a write rule', async () => {
    const body = { store: 'media', key: 'refused/a.txt', size: 1, contentType: 'text/plain' };
    assert.equal((await plan(body, {})).status, 401);
    assert.equal((await plan(body, bob)).status, 403);
  });

  it('413 too big, 415 wrong type, 404 unknown store', async () => {
    assert.equal((await plan({ store: 'media', key: 'refused/big.bin', size: MAX_BYTES + 1 })).status, 413);
    assert.equal((await plan({ store: 'media', key: 'refused/page.html', size: 1, contentType: 'text/html' })).status, 415);
    assert.equal((await plan({ store: 'nope', key: 'refused/x.txt', size: 1, contentType: 'text/plain' })).status, 404);
  });

  it('refuses traversal and malformed keys with 400', async () => {
    for (const key of ['../etc/passwd', 'a/../../b', 'a//b', './a', 'a\\b', 'nul\u0000byte']) {
      const res = await plan({ store: 'media', key, size: 1, contentType: 'text/plain' });
      assert.equal(res.status, 400, key);
    }
  });
});

describe('multipart', () => {
  it('uploads 100 MiB in presigned parts, completes, and downloads the same SHA-256', async () => {
    const bytes = randomBytes(100 * MIB + 123);
    const p = await planned({ store: 'media', key: 'big/multi.bin', size: bytes.length, contentType: 'application/octet-stream' });
    assert.ok(p.uploadId !== undefined && p.parts !== undefined);
    assert.equal(p.parts.length, 21);
    assert.ok(p.parts.slice(0, -1).every((part) => part.size === 5 * MIB));
    const etags: { partNumber: number; etag: string }[] = [];
    let offset = 0;
    for (const part of p.parts) {
      const res = await fetch(part.url, { method: 'PUT', body: bytes.subarray(offset, offset + part.size) });
      assert.equal(res.status, 200, await res.text());
      etags.push({ partNumber: part.partNumber, etag: res.headers.get('etag') as string });
      offset += part.size;
    }
    // Only the subject that started the upload may complete it.
    const byBob = await fetch(`http://127.0.0.1:${stack.port}/files/_uploads/${p.uploadId}/complete`, {
      method: 'POST',
      headers: { ...bob, 'Content-Type': 'application/json' },
      body: JSON.stringify({ parts: etags }),
    });
    assert.equal(byBob.status, 404);
    const done = await fetch(`http://127.0.0.1:${stack.port}/files/_uploads/${p.uploadId}/complete`, {
      method: 'POST',
      headers: { ...alice, 'Content-Type': 'application/json' },
      body: JSON.stringify({ parts: etags }),
    });
    assert.equal(done.status, 200, await done.clone().text());
    assert.deepEqual(await done.json(), { store: 'media', key: 'big/multi.bin', size: bytes.length });
    const got = await download(stack.port, '/files/media/big/multi.bin', alice);
    assert.equal(got.status, 200);
    assert.equal(got.sha256, createHash('sha256').update(bytes).digest('hex'));
    assert.equal((await plan({ store: 'media', key: 'big/multi.bin', size: 10 * MIB })).status, 409);
  });

  it('aborts: part URLs stop working and the key may be planned again', async () => {
    const body = { store: 'media', key: 'big/aborted.bin', size: 12 * MIB, contentType: 'application/octet-stream' };
    const p = await planned(body);
    const abort = (id: string, headers: Record<string, string>) => fetch(`http://127.0.0.1:${stack.port}/files/_uploads/${id}`, { method: 'DELETE', headers });
    assert.equal((await abort(p.uploadId as string, bob)).status, 404);
    assert.equal((await abort(p.uploadId as string, alice)).status, 204);
    const part = p.parts?.[0] as { url: string; size: number };
    const late = await fetch(part.url, { method: 'PUT', body: Buffer.alloc(part.size) });
    assert.equal(late.status, 404);
    const again = await planned(body);
    assert.equal((await abort(again.uploadId as string, alice)).status, 204);
    assert.equal((await abort(again.uploadId as string, alice)).status, 404);
  });
});

/** PUTs `size` bytes through nginx as a generated stream (never held in memory) → status, body, SHA-256. */
function putStream(rawPath: string, size: number, headers: Record<string, string>): Promise<{ status: number; body: string; sha256: string }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    const chunk = Buffer.alloc(MIB);
    const req = http.request(
      {
        host: '127.0.0.1',
        port: stack.port,
        method: 'PUT',
        path: rawPath,
        agent: false,
        headers: { ...headers, 'Content-Length': String(size), 'Content-Type': 'application/octet-stream' },
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, sha256: hash.digest('hex') }));
      },
    );
    req.on('error', reject);
    let sent = 0;
    const write = (): void => {
      while (sent < size) {
        chunk.writeUInt32BE(sent / MIB, 0); // every MiB differs, so a misplaced chunk changes the hash
        const part = chunk.subarray(0, Math.min(MIB, size - sent));
        hash.update(part);
        sent += part.length;
        if (!req.write(part)) return void req.once('drain', write);
      }
      req.end();
    };
    write();
  });
}

describe('fs uploads offloaded to nginx', () => {
  it('takes a 500 MiB body into a temp file and links it into place, without the app buffering it', async (t) => {
    const size = 500 * MIB;
    globalThis.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const res = await putStream('/files/_uploads/fs/docs/videos/big%20one.bin', size, alice);
    const rssAfter = process.memoryUsage().rss;
    assert.equal(res.status, 201, res.body);
    assert.deepEqual(JSON.parse(res.body), { store: 'docs', key: 'videos/big one.bin', size });
    t.diagnostic(`app process RSS change during a 500 MiB upload: ${((rssAfter - rssBefore) / MIB).toFixed(1)} MiB`);
    assert.ok(rssAfter - rssBefore < 8 * MIB, `RSS grew by ${((rssAfter - rssBefore) / MIB).toFixed(1)} MiB`);
    assert.equal((await stat(path.join(fsRoot, 'videos/big one.bin'))).size, size);
    const got = await download(stack.port, '/files/docs/videos/big%20one.bin', alice);
    assert.equal(got.sha256, res.sha256);
    // nginx removed the temp name; only the linked file remains.
    assert.deepEqual(await readdir(path.join(fsRoot, '.sluice-upload-tmp')), []);
  });

  it('is write-once: a second PUT to the same key is 409 and leaves the first file', async () => {
    assert.equal((await putStream('/files/_uploads/fs/docs/once.txt', 5, alice)).status, 201);
    const before = await readFile(path.join(fsRoot, 'once.txt'));
    const again = await putStream('/files/_uploads/fs/docs/once.txt', 7, alice);
    assert.equal(again.status, 409, again.body);
    assert.deepEqual(await readFile(path.join(fsRoot, 'once.txt')), before);
  });

  it('authorizes before the body is read: 401 / 403 / 413 without storing anything', async () => {
    assert.equal((await putStream('/files/_uploads/fs/docs/denied.bin', 2 * MIB, {})).status, 401);
    assert.equal((await putStream('/files/_uploads/fs/docs/denied.bin', 2 * MIB, bob)).status, 403);
    assert.equal((await putStream('/files/_uploads/fs/docs/denied.bin', MAX_BYTES + 1, alice)).status, 413);
    await assert.rejects(stat(path.join(fsRoot, 'denied.bin')));
  });

  it('refuses traversal and reserved keys', async () => {
    for (const raw of [
      '/files/_uploads/fs/docs/%2e%2e/escape.txt',
      '/files/_uploads/fs/docs/a/..%2f..%2fescape.txt',
      '/files/_uploads/fs/docs/.sluice-upload-tmp/x',
      '/files/_uploads/fs/docs/a//b',
    ]) {
      const res = await putStream(raw, 3, alice);
      assert.ok(res.status === 400 || res.status === 403 || res.status === 404, `${raw}: ${res.status}`);
    }
    await assert.rejects(stat(path.join(fsRoot, '..', 'escape.txt')));
    await assert.rejects(stat(path.join(fsRoot, 'escape.txt')));
  });

  it('never serves the temp directory as a download', async () => {
    await writeFile(path.join(fsRoot, '.sluice-upload-tmp', '0000000099'), 'partial body');
    const res = await request(stack.port, '/files/docs/.sluice-upload-tmp/0000000099', { headers: alice });
    // Refused by key canonicalization in every route (the rendered internal location blocks it as well).
    assert.equal(res.status, 400);
    assert.deepEqual(res.json(), { error: 'reserved key' });
    assert.doesNotMatch(res.text(), /partial body/);
    await rm(path.join(fsRoot, '.sluice-upload-tmp', '0000000099'));
  });
});

describe('write-once state fails closed', () => {
  it('answers 503 while Redis is unreachable', async () => {
    await redis.stop();
    const res = await plan({ store: 'media', key: 'down/a.txt', size: 1, contentType: 'text/plain' });
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), { error: 'upload state unavailable' });
  });
});
