// Downloads from an S3 store through real nginx and a real, signature-checking S3 server
// (Swift s3api): nginx mode (presigned URL in a private header), redirect mode and stream mode.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { download, keyPath, request } from '../helpers/http.js';
import { contentFor, TRICKY_KEYS } from '../helpers/fixtures.js';
import { assertConditionalRequests, assertRangesAndHead, RANGE_FIXTURE } from '../helpers/http-semantics.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { startSwiftS3, s3ClientFor, type S3TestServer, s3StoreAccess } from '../helpers/swift.js';
import { bearer, testAuthConfig } from '../helpers/tokens.js';
import { freePort } from '../helpers/ports.js';

const BUCKET = 'media';
const BIG_KEY = 'videos/big file.bin';
const BIG_SIZE = 256 * 1024 * 1024;

let s3: S3TestServer;
let client: S3Client;
let stack: Stack;
let alice: Record<string, string>;
let bigSha256: string;
let capture: { server: http.Server; requests: { url: string; headers: http.IncomingHttpHeaders; method: string }[] };

function s3Store(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 's3',
    bucket: BUCKET,
    ...s3StoreAccess(s3),
    ...extra,
  };
}

/** A loopback HTTP server standing in for storage, to see exactly what nginx sends it. */
async function startCapture(): Promise<typeof capture> {
  const requests: (typeof capture)['requests'] = [];
  const server = http.createServer((req, res) => {
    requests.push({ url: req.url ?? '', headers: req.headers, method: req.method ?? '' });
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': '8' });
    res.end('captured');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, requests };
}

before(async () => {
  s3 = await startSwiftS3();
  client = s3ClientFor(s3);
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  for (const key of TRICKY_KEYS) {
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: contentFor(key) }));
  }
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'range.bin', Body: RANGE_FIXTURE }));
  // Stored with a type S3 would send; the app's type must win.
  await client.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: 'report.pdf',
      Body: '%PDF-1.4 fake',
      ContentType: 'binary/octet-stream',
      ContentDisposition: 'attachment; filename="from-s3.pdf"',
      CacheControl: 'public, max-age=31536000',
    }),
  );
  const big = randomBytes(BIG_SIZE);
  bigSha256 = createHash('sha256').update(big).digest('hex');
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: BIG_KEY, Body: big, ContentLength: BIG_SIZE }));

  capture = await startCapture();
  const closedPort = await freePort();
  stack = await startStack({
    stores: {
      media: s3Store(),
      redirected: s3Store({ delivery: 'redirect', presignTtlSeconds: 30 }),
      streamed: s3Store({ delivery: 'stream' }),
      forged: s3Store({ secretAccessKey: 'not-the-secret' }),
      offline: s3Store({ endpoint: `http://127.0.0.1:${closedPort}` }),
      offline_stream: s3Store({ endpoint: `http://127.0.0.1:${closedPort}`, delivery: 'stream' }),
      capture: s3Store({ endpoint: `http://127.0.0.1:${(capture.server.address() as AddressInfo).port}`, bucket: 'cap' }),
    },
    auth: testAuthConfig,
    rules: [{ key: '*rest', when: [{ authenticated: true }] }],
  });
  alice = await bearer('alice');
});

after(async () => {
  await stack?.stop();
  capture?.server.close();
  await s3?.stop();
});

function assertNothingPrivateLeaks(res: { headers: http.IncomingHttpHeaders }, label: string): void {
  const all = JSON.stringify(res.headers);
  assert.doesNotMatch(all, /x-sluice|X-Amz-Signature|X-Amz-Credential/i, `${label}: private header or presigned URL leaked`);
  assert.equal(res.headers['x-amz-request-id'], undefined, `${label}: storage headers hidden`);
}

for (const store of ['media', 'streamed']) {
  describe(`s3 store, ${store === 'media' ? 'nginx (X-Accel-Redirect)' : 'stream'} delivery`, () => {
    it('returns every tricky key byte-identical', async () => {
      for (const key of TRICKY_KEYS) {
        const res = await request(stack.port, `/files/${store}/${keyPath(key)}`, { headers: alice });
        assert.equal(res.status, 200, `${key}: ${res.text()}`);
        assert.deepEqual(res.body, contentFor(key), key);
        assertNothingPrivateLeaks(res, key);
      }
    });

    it('serves ranges, suffix ranges and HEAD (presigned for HEAD)', async () => {
      await assertRangesAndHead(stack.port, `/files/${store}/range.bin`, alice);
    });

    it('answers conditional requests with 304', async () => {
      await assertConditionalRequests(stack.port, `/files/${store}/range.bin`, alice);
    });

    it("uses the app's type, disposition and caching, once each", async () => {
      const res = await request(stack.port, `/files/${store}/report.pdf`, { headers: alice });
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'application/pdf');
      assert.equal(res.headers['content-disposition'], 'inline; filename="report.pdf"');
      assert.equal(res.headers['cache-control'], 'private, no-store');
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      const raw = res.headers as Record<string, unknown>;
      assert.ok(!Array.isArray(raw['content-disposition']));
    });

    it('answers 404 for a missing object, with no storage error body', async () => {
      const res = await request(stack.port, `/files/${store}/no/such/object.txt`, { headers: alice });
      assert.equal(res.status, 404);
      assert.doesNotMatch(res.text(), /<\?xml|NoSuchKey|RequestId/);
    });
  });
}

describe('s3 store, nginx delivery: large objects and what reaches storage', () => {
  it(`downloads a ${BIG_SIZE / 1024 / 1024} MiB object with a matching checksum and no nginx temp file`, async () => {
    const res = await download(stack.port, `/files/media/${keyPath(BIG_KEY)}`, alice);
    assert.equal(res.status, 200);
    assert.equal(res.bytes, BIG_SIZE);
    assert.equal(res.sha256, bigSha256);
    const temp = await readdir(path.join(stack.dir, 'nginx', 'run', 'tmp', 'proxy'), { recursive: true });
    assert.deepEqual(temp, [], 'nginx spooled nothing to disk');
  });

  it("never forwards the client's Authorization or Cookie to storage", async () => {
    capture.requests.length = 0;
    const res = await request(stack.port, '/files/capture/some/file.bin', {
      headers: { ...alice, Cookie: 'sluice_session=x; other=y', Range: 'bytes=0-3', 'X-Custom': 'nope' },
    });
    assert.equal(res.status, 200, 'the stand-in answers 200 whatever the Range');
    assert.equal(res.text(), 'captured');
    assert.equal(capture.requests.length, 1);
    const seen = capture.requests[0]!;
    assert.equal(seen.headers.authorization, undefined);
    assert.equal(seen.headers.cookie, undefined);
    assert.equal(seen.headers['x-custom'], undefined);
    assert.equal(seen.headers.range, 'bytes=0-3', 'Range is forwarded');
    assert.match(seen.url, /^\/cap\/some\/file\.bin\?.*X-Amz-Signature=/);
    assert.equal(seen.method, 'GET');
  });

  it('a successful download with the Authorization header proves S3 never saw it', async () => {
    // S3 rejects a presigned URL that also carries an Authorization header ("only one auth mechanism").
    const res = await request(stack.port, '/files/media/range.bin', { headers: alice });
    assert.equal(res.status, 200);
  });

  it('short 502 when storage rejects the signature or is down', async () => {
    for (const store of ['forged', 'offline']) {
      const res = await request(stack.port, `/files/${store}/range.bin`, { headers: alice });
      assert.equal(res.status, 502, store);
      assert.deepEqual(res.json(), { error: 'storage error' }, store);
      assert.equal(res.headers['content-disposition'], undefined);
    }
  });

  it('stream mode answers a short 502 too when storage is down', async () => {
    const res = await request(stack.port, '/files/offline_stream/range.bin', { headers: alice });
    assert.equal(res.status, 502);
    assert.deepEqual(res.json(), { error: 'storage unavailable' });
  });
});

describe('s3 store, redirect delivery', () => {
  it('302 to a presigned URL that works for GET', async () => {
    const res = await request(stack.port, `/files/redirected/${keyPath('ü ñ 日本.pdf')}`, { headers: alice });
    assert.equal(res.status, 302);
    assert.equal(res.headers['cache-control'], 'no-store');
    const location = res.headers.location as string;
    assert.ok(location.startsWith(`${s3.endpoint}/${BUCKET}/`), location);
    const fetched = await fetch(location);
    assert.equal(fetched.status, 200);
    assert.deepEqual(Buffer.from(await fetched.arrayBuffer()), contentFor('ü ñ 日本.pdf'));
    // The app's headers travel signed inside the URL: storage answers with them.
    assert.equal(fetched.headers.get('content-type'), 'application/pdf');
    assert.equal(fetched.headers.get('content-disposition'), `inline; filename="u n __.pdf"; filename*=UTF-8''%C3%BC%20%C3%B1%20%E6%97%A5%E6%9C%AC.pdf`);
    assert.equal(fetched.headers.get('cache-control'), 'private, no-store');
    const tampered = location.replace('response-content-disposition=inline', 'response-content-disposition=attachment');
    assert.notEqual(tampered, location);
    assert.equal((await fetch(tampered)).status, 403, 'the overrides are part of the signature');
  });

  it('HEAD redirects to a URL presigned for HEAD', async () => {
    const res = await request(stack.port, '/files/redirected/range.bin', { method: 'HEAD', headers: alice });
    assert.equal(res.status, 302);
    const head = await fetch(res.headers.location as string, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '36');
  });

  it('still requires authorization before redirecting', async () => {
    const res = await request(stack.port, '/files/redirected/range.bin');
    assert.equal(res.status, 401);
    assert.equal(res.headers.location, undefined);
  });
});
