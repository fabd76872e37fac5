import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { storeSchema, type FsStoreConfig, type S3StoreConfig } from '../../src/config/schema.js';
import { ConfigError } from '../../src/config/errors.js';
import { PublicError } from '../../src/errors.js';
import { S3_PATH_HEADER } from '../../src/contract/headers.js';
import { assertFsRoot, createFsStore } from '../../src/storage/fs-store.js';
import { createS3Store, s3Origin, splitPresignedUrl } from '../../src/storage/s3-store.js';
import type { CanonicalKey } from '../../src/storage/types.js';

const PREFIX = '/_sluice';

function key(...segments: string[]): CanonicalKey {
  return { segments, value: segments.join('/') };
}

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function fsConfig(root: string): FsStoreConfig {
  const parsed = storeSchema.parse({ type: 'fs', root, delivery: 'stream' });
  assert.equal(parsed.type, 'fs');
  return parsed as FsStoreConfig;
}

function s3Config(overrides: Record<string, unknown> = {}): S3StoreConfig {
  const parsed = storeSchema.parse({
    type: 's3',
    bucket: 'my-bucket',
    region: 'eu-west-1',
    accessKeyId: 'AKIDEXAMPLE',
    secretAccessKey: 'example-secret-key',
    ...overrides,
  });
  assert.equal(parsed.type, 's3');
  return parsed as S3StoreConfig;
}

describe('fs store', () => {
  let dir: string;
  let root: string;

  before(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'sluice-storage-'));
    root = path.join(dir, 'root');
    await fsp.mkdir(path.join(root, 'docs', 'sub'), { recursive: true });
    await fsp.writeFile(path.join(root, 'docs', 'hello.txt'), 'hello, world');
    await fsp.writeFile(path.join(dir, 'secret.txt'), 'top secret');
    await fsp.symlink(path.join(dir, 'secret.txt'), path.join(root, 'docs', 'escape.txt'));
    await fsp.symlink(dir, path.join(root, 'outside'));
    await fsp.symlink(path.join(root, 'docs', 'hello.txt'), path.join(root, 'inner-link.txt'));
  });

  after(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('stats a regular file with a weak size+mtime ETag', async () => {
    const store = createFsStore('docs', fsConfig(root), PREFIX);
    const info = await store.stat(key('docs', 'hello.txt'));
    assert.ok(info);
    assert.equal(info.size, 12);
    assert.match(info.etag ?? '', /^W\/"[0-9a-f]+-c"$/);
    const stats = await fsp.stat(path.join(root, 'docs', 'hello.txt'));
    assert.equal(info.lastModified?.getTime(), stats.mtime.getTime());
  });

  it('returns null for missing files and for directories', async () => {
    const store = createFsStore('docs', fsConfig(root), PREFIX);
    assert.equal(await store.stat(key('docs', 'nope.txt')), null);
    assert.equal(await store.stat(key('docs', 'hello.txt', 'below-a-file')), null);
    assert.equal(await store.stat(key('docs')), null);
    assert.equal(await store.stat(key('docs', 'sub')), null);
    await assert.rejects(store.read(key('docs', 'sub')), (e) => e instanceof PublicError && e.status === 404);
  });

  it('reads the whole file and inclusive ranges', async () => {
    const store = createFsStore('docs', fsConfig(root), PREFIX);
    assert.equal(await text(await store.read(key('docs', 'hello.txt'))), 'hello, world');
    assert.equal(await text(await store.read(key('docs', 'hello.txt'), { start: 0, end: 4 })), 'hello');
    assert.equal(await text(await store.read(key('docs', 'hello.txt'), { start: 7, end: 11 })), 'world');
  });

  it('refuses symlinks that leave the root, follows those that stay inside', async () => {
    const store = createFsStore('docs', fsConfig(root), PREFIX);
    assert.equal(await store.stat(key('docs', 'escape.txt')), null);
    assert.equal(await store.stat(key('outside', 'secret.txt')), null);
    await assert.rejects(store.read(key('docs', 'escape.txt')), (e) => e instanceof PublicError && e.status === 404);
    await assert.rejects(store.read(key('outside', 'secret.txt')), (e) => e instanceof PublicError && e.status === 404);
    assert.equal(await text(await store.read(key('inner-link.txt'))), 'hello, world');
  });

  it('refuses traversal even if a non-canonical key slipped through', async () => {
    const store = createFsStore('docs', fsConfig(root), PREFIX);
    assert.equal(await store.stat({ segments: ['..', 'secret.txt'], value: '../secret.txt' }), null);
  });

  it('works when the root itself is reached through a symlink', async () => {
    const linkedRoot = path.join(dir, 'linked-root');
    await fsp.symlink(root, linkedRoot);
    const store = createFsStore('docs', fsConfig(linkedRoot), PREFIX);
    assert.equal((await store.stat(key('docs', 'hello.txt')))?.size, 12);
    assert.equal(await store.stat(key('docs', 'escape.txt')), null);
  });

  it('check() and assertFsRoot() accept a directory and reject the rest', async () => {
    await createFsStore('docs', fsConfig(root), PREFIX).check();
    await assertFsRoot('docs', fsConfig(root));
    const missing = path.join(dir, 'missing');
    const file = path.join(root, 'docs', 'hello.txt');
    await assert.rejects(createFsStore('docs', fsConfig(missing), PREFIX).check(), /does not exist/);
    await assert.rejects(createFsStore('docs', fsConfig(file), PREFIX).check(), /not a directory/);
    await assert.rejects(
      assertFsRoot('docs', fsConfig(missing)),
      (e) => e instanceof ConfigError && /stores\.docs\.root \(SLUICE_STORES__DOCS__ROOT\).*does not exist/.test(e.message),
    );
    await assert.rejects(assertFsRoot('docs', fsConfig(file)), (e) => e instanceof ConfigError && /not a directory/.test(e.message));
  });

  it('accelTarget percent-encodes each segment under the alias location, without disk access', async () => {
    const store = createFsStore('docs', fsConfig(path.join(dir, 'does-not-exist')), PREFIX);
    const cases: [CanonicalKey, string][] = [
      [key('a b.txt'), 'a%20b.txt'],
      [key('dir', 'ü ñ 日本.pdf'), 'dir/%C3%BC%20%C3%B1%20%E6%97%A5%E6%9C%AC.pdf'],
      [key("+ % # ? & = ; *()!' ~"), "%2B%20%25%20%23%20%3F%20%26%20%3D%20%3B%20*()!'%20~"],
    ];
    for (const [k, encoded] of cases) {
      const target = await store.accelTarget(k, 'GET');
      assert.equal(target.location, `${PREFIX}/fs/docs/${encoded}`);
      assert.deepEqual(target.headers, {});
      assert.equal(decodeURIComponent(target.location.slice(`${PREFIX}/fs/docs/`.length)), k.value);
    }
  });

  it('cannot presign', async () => {
    await assert.rejects(createFsStore('docs', fsConfig(root), PREFIX).presignedUrl(key('x'), 'GET'));
  });
});

/** Recomputes a presigned SigV4 query signature for `method`; true when the URL's signature matches. */
function sigV4Matches(url: string, method: string, secret: string): boolean {
  const match = /^https?:\/\/([^/?#]+)(\/[^?#]*)\?(.*)$/.exec(url);
  assert.ok(match);
  const [, host, canonicalUri, query] = match as unknown as [string, string, string, string];
  const pairs = query.split('&').map((p) => p.split('=') as [string, string]);
  const signature = pairs.find(([k]) => k === 'X-Amz-Signature')?.[1];
  const param = (name: string): string => decodeURIComponent(pairs.find(([k]) => k === name)?.[1] ?? '');
  const canonicalQuery = pairs
    .filter(([k]) => k !== 'X-Amz-Signature')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalRequest = [method, canonicalUri, canonicalQuery, `host:${host}`, '', 'host', 'UNSIGNED-PAYLOAD'].join('\n');
  const [, date, region, service] = param('X-Amz-Credential').split('/') as [string, string, string, string];
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    param('X-Amz-Date'),
    `${date}/${region}/${service}/aws4_request`,
    createHash('sha256').update(canonicalRequest).digest('hex'),
  ].join('\n');
  let signingKey: Buffer = Buffer.from(`AWS4${secret}`);
  for (const part of [date, region, service, 'aws4_request']) signingKey = createHmac('sha256', signingKey).update(part).digest();
  return createHmac('sha256', signingKey).update(stringToSign).digest('hex') === signature;
}

describe('s3 store (offline presigning)', () => {
  const minio = { endpoint: 'http://127.0.0.1:9000', forcePathStyle: true, region: 'us-east-1' };

  it('s3Origin: path-style custom endpoint', async () => {
    assert.equal(await s3Origin(s3Config(minio)), 'http://127.0.0.1:9000');
  });

  it('s3Origin: virtual-hosted AWS, without any credentials configured', async () => {
    const config = s3Config({ accessKeyId: undefined, secretAccessKey: undefined });
    assert.equal(await s3Origin(config), 'https://my-bucket.s3.eu-west-1.amazonaws.com');
  });

  it('s3Origin: dotted bucket names fall back to path-style on AWS', async () => {
    assert.equal(await s3Origin(s3Config({ bucket: 'my.bucket' })), 'https://s3.eu-west-1.amazonaws.com');
  });

  it('accelTarget puts the signed path+query in the private header, encoding kept verbatim', async () => {
    const store = createS3Store('media', s3Config(minio), PREFIX);
    const target = await store.accelTarget({ segments: ['a b', 'ü.pdf'], value: 'a b/ü.pdf' }, 'GET');
    assert.equal(target.location, `${PREFIX}/s3/media`);
    const header = target.headers[S3_PATH_HEADER];
    assert.ok(header);
    assert.ok(header.startsWith('/my-bucket/a%20b/%C3%BC.pdf?'), header);
    assert.match(header, /X-Amz-Signature=[0-9a-f]{64}/);
    assert.match(header, /X-Amz-Expires=60(&|$)/);
    assert.doesNotMatch(header, /x-amz-checksum-mode/i); // WHEN_REQUIRED: nothing Swift would reject
    assert.ok(sigV4Matches(`http://127.0.0.1:9000${header}`, 'GET', 'example-secret-key'));
  });

  it('dot-dot segments are not collapsed between signing and the header', async () => {
    const store = createS3Store('media', s3Config(minio), PREFIX);
    const target = await store.accelTarget({ segments: ['dir', '..', 'x'], value: 'dir/../x' }, 'GET');
    const header = target.headers[S3_PATH_HEADER] ?? '';
    assert.ok(header.startsWith('/my-bucket/dir/../x?'), header);
    assert.ok(sigV4Matches(`http://127.0.0.1:9000${header}`, 'GET', 'example-secret-key'));
  });

  it('HEAD requests get a HeadObject signature, which a GET signature is not', async () => {
    const store = createS3Store('media', s3Config(), PREFIX);
    const k = key('report.pdf');
    const getUrl = await store.presignedUrl(k, 'GET');
    const headUrl = await store.presignedUrl(k, 'HEAD');
    assert.ok(getUrl.startsWith('https://my-bucket.s3.eu-west-1.amazonaws.com/report.pdf?'));
    assert.ok(sigV4Matches(getUrl, 'GET', 'example-secret-key'));
    assert.ok(!sigV4Matches(getUrl, 'HEAD', 'example-secret-key'));
    assert.ok(sigV4Matches(headUrl, 'HEAD', 'example-secret-key'));
    assert.ok(!sigV4Matches(headUrl, 'GET', 'example-secret-key'));
    assert.doesNotMatch(headUrl, /x-id=GetObject/);

    const headTarget = await store.accelTarget(k, 'HEAD');
    const headHeader = headTarget.headers[S3_PATH_HEADER] ?? '';
    assert.ok(sigV4Matches(`https://my-bucket.s3.eu-west-1.amazonaws.com${headHeader}`, 'HEAD', 'example-secret-key'));
  });

  it('honours presignTtlSeconds', async () => {
    const store = createS3Store('media', s3Config({ presignTtlSeconds: 15 }), PREFIX);
    assert.match(await store.presignedUrl(key('x'), 'GET'), /X-Amz-Expires=15(&|$)/);
  });

  it('splitPresignedUrl refuses any other origin', () => {
    const origin = 'http://127.0.0.1:9000';
    assert.equal(splitPresignedUrl(`${origin}/b/k?X-Amz-Signature=1`, origin), '/b/k?X-Amz-Signature=1');
    assert.equal(splitPresignedUrl(`${origin}/b/a/../k?q=1`, origin), '/b/a/../k?q=1');
    for (const url of [
      'http://127.0.0.1:9001/b/k?q',
      'https://127.0.0.1:9000/b/k?q',
      'http://evil.example/b/k?q',
      'http://127.0.0.1:9000@evil.example/b/k?q',
      'http://127.0.0.1:9000.evil.example/b/k?q',
      'http://127.0.0.1:9000?q',
      '//127.0.0.1:9000/b/k',
    ]) {
      assert.throws(() => splitPresignedUrl(url, origin), /store origin/, url);
    }
  });
});

describe('s3 store against a fake S3 endpoint', () => {
  const BODY = 'hello world';
  const seen: { method: string; url: string; range: string | undefined }[] = [];
  let server: http.Server;
  let endpoint: string;

  before(async () => {
    server = http.createServer((req, res) => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', range: req.headers.range });
      const objectPath = (req.url ?? '').split('?')[0];
      const xmlError = (status: number, code: string): void => {
        res.writeHead(status, { 'Content-Type': 'application/xml' });
        res.end(req.method === 'HEAD' ? undefined : `<?xml version="1.0"?><Error><Code>${code}</Code></Error>`);
      };
      switch (objectPath) {
        case '/my-bucket':
        case '/my-bucket/':
          res.writeHead(200).end();
          return;
        case '/my-bucket/present.txt': {
          const match = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
          const slice = match ? BODY.slice(Number(match[1]), Number(match[2]) + 1) : BODY;
          res.writeHead(match ? 206 : 200, {
            'Content-Length': String(req.method === 'HEAD' ? BODY.length : slice.length),
            ETag: '"5eb63bbbe01eeed093cb22bb8f5acdc3"',
            'Last-Modified': 'Wed, 01 Jan 2025 10:00:00 GMT',
          });
          res.end(req.method === 'HEAD' ? undefined : slice);
          return;
        }
        case '/my-bucket/forbidden.txt':
          return xmlError(403, 'AccessDenied');
        case '/my-bucket/broken.txt':
          return xmlError(500, 'InternalError');
        default:
          return xmlError(404, objectPath?.startsWith('/my-bucket/') ? 'NoSuchKey' : 'NoSuchBucket');
      }
    });
    server.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const store = (overrides: Record<string, unknown> = {}) =>
    createS3Store('media', s3Config({ endpoint, forcePathStyle: true, region: 'us-east-1', ...overrides }), PREFIX);

  it('stat maps HeadObject to size, ETag and Last-Modified; 404 to null', async () => {
    const info = await store().stat(key('present.txt'));
    assert.deepEqual(info, {
      size: BODY.length,
      etag: '"5eb63bbbe01eeed093cb22bb8f5acdc3"',
      lastModified: new Date('2025-01-01T10:00:00Z'),
    });
    assert.equal(await store().stat(key('missing.txt')), null);
  });

  it('stat failures other than 404 become a short 502', async () => {
    for (const name of ['forbidden.txt', 'broken.txt']) {
      await assert.rejects(store().stat(key(name)), (e) => e instanceof PublicError && e.status === 502 && e.reason === 'storage unavailable', name);
    }
  });

  it('read sends an inclusive Range and returns the body stream; 404 → PublicError 404', async () => {
    seen.length = 0;
    assert.equal(await text(await store().read(key('present.txt'), { start: 6, end: 10 })), 'world');
    assert.equal(seen.at(-1)?.range, 'bytes=6-10');
    assert.equal(await text(await store().read(key('present.txt'))), BODY);
    assert.equal(seen.at(-1)?.range, undefined);
    await assert.rejects(store().read(key('missing.txt')), (e) => e instanceof PublicError && e.status === 404);
    await assert.rejects(store().read(key('forbidden.txt')), (e) => e instanceof PublicError && e.status === 502);
  });

  it('an unreachable endpoint is a 502, not a hang', async () => {
    const closed = http.createServer();
    closed.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => closed.once('listening', resolve));
    const deadEndpoint = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const dead = store({ endpoint: deadEndpoint });
    await assert.rejects(dead.stat(key('present.txt')), (e) => e instanceof PublicError && e.status === 502);
    await assert.rejects(dead.check(), /not reachable/);
  });

  it('check() uses HeadBucket', async () => {
    await store().check();
    await assert.rejects(store({ bucket: 'no-bucket' }).check(), /bucket "no-bucket" is not reachable/);
  });
});
