// Image transforms end to end: real nginx (rendered by Sluice), the app in-process, `sluice worker`
// as a separate process with real sharp, and a real signature-checking S3 (Swift s3api).
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { request, type RawResponse } from '../helpers/http.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { startSwiftS3, s3ClientFor, type S3TestServer } from '../helpers/swift.js';
import { bearer, testAuthConfig } from '../helpers/tokens.js';
import { signImgproxyPath } from '../helpers/worker.js';

const KEY = Buffer.from('sluice-test-key').toString('hex');
const SALT = Buffer.from('sluice-test-salt').toString('hex');
const WORKER_SECRET = 'integration-worker-secret-0123456789abcdef';
const IMAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox";
const BUCKET = 'media';

let base: string;
let stack: Stack;
let s3: S3TestServer;
let staff: Record<string, string>;
let reader: Record<string, string>;

/** A signed imgproxy URL under the stack's /img prefix. */
const signed = (pathAfterSignature: string): string => `/img${signImgproxyPath(pathAfterSignature, KEY, SALT)}`;
const get = (url: string, headers: Record<string, string> = {}): Promise<RawResponse> => request(stack.port, url, { headers });

function magic(body: Buffer): string {
  if (body.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff]))) return 'jpeg';
  if (body.subarray(0, 8).equals(Buffer.from('89504e470d0a1a0a', 'hex'))) return 'png';
  if (body.toString('latin1', 0, 4) === 'RIFF' && body.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  if (body.toString('latin1', 4, 12) === 'ftypavif') return 'avif';
  return 'unknown';
}

async function dimensions(body: Buffer): Promise<string> {
  const meta = await sharp(body).metadata();
  return `${meta.width}x${meta.height}`;
}

/** A 4:3 photo-like image: gradient, shapes, some grain. */
async function photo(width: number, height: number): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#234"/><stop offset="1" stop-color="#d84"/></linearGradient></defs>
    <rect width="100%" height="100%" fill="url(#g)"/><circle cx="${width / 3}" cy="${height / 2}" r="${height / 4}" fill="#7c9"/></svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 90 }).toBuffer();
}

/** A tiny valid JPEG whose header claims 64250×64250 (4.1 gigapixels): a decompression bomb. */
async function bomb(): Promise<Buffer> {
  const jpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } })
    .jpeg()
    .toBuffer();
  const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
  jpeg.writeUInt16BE(64250, sof + 5); // height
  jpeg.writeUInt16BE(64250, sof + 7); // width
  return jpeg;
}

async function put(root: string, key: string, content: Buffer | string): Promise<void> {
  const file = path.join(root, ...key.split('/'));
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
}

before(async () => {
  const swift = startSwiftS3(); // ~10 s: started first, awaited last
  base = await mkdtemp(path.join(os.tmpdir(), 'sluice-transforms-'));
  await chmod(base, 0o755);
  const root = path.join(base, 'photos');
  const source = await photo(1200, 900);
  await put(root, 'photo.jpg', source);
  await put(root, 'attachments/site visit ü.jpg', source);
  await put(root, 'big.jpg', await photo(3840, 2880));
  await put(root, 'bomb.jpg', await bomb());
  await put(root, 'notes.jpg', 'just some text, not an image\n');
  await writeFile(path.join(base, 'secret.jpg'), source);
  const watermark = path.join(base, 'watermark.png');
  await sharp({ create: { width: 120, height: 40, channels: 4, background: { r: 255, g: 0, b: 255, alpha: 1 } } })
    .png()
    .toFile(watermark);

  s3 = await swift;
  const client = s3ClientFor(s3);
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'cats/tabby cat.jpg', Body: source }));

  stack = await startStack(
    {
      stores: {
        photos: { type: 'fs', root, cacheControl: 'private, max-age=600' },
        media: { type: 's3', bucket: BUCKET, endpoint: s3.endpoint, forcePathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      },
      auth: testAuthConfig,
      rules: [
        { id: 'staff-transforms', key: '*rest', actions: ['transform'], when: [{ claim: 'groups', contains: 'staff' }] },
        { id: 'readers', key: '*rest', actions: ['read', 'head'], when: [{ authenticated: true }] },
      ],
      transform: { enabled: true, keys: [KEY], salts: [SALT], localStore: 'photos', presets: { mark: 'watermark:1:soea:0:0' } },
      // One slot and no queue: a second image at the same moment is refused (429).
      worker: { secret: WORKER_SECRET, concurrency: 1, queueSize: 0, watermark },
    },
    { worker: true },
  );
  staff = await bearer('alice', { groups: ['staff'] });
  reader = await bearer('bob');
});

after(async () => {
  await stack?.stop();
  await s3?.stop();
  if (base !== undefined) await rm(base, { recursive: true, force: true });
});

describe('imgproxy-compatible URLs', () => {
  it('renders a signed URL: size, format, and the headers the client must see', async () => {
    const res = await get(signed('/rs:fit:400:300/plain/local:///photo.jpg@png'));
    assert.equal(res.status, 200, res.text());
    assert.equal(magic(res.body), 'png');
    assert.equal(await dimensions(res.body), '400x300');
    assert.equal(res.headers['content-type'], 'image/png');
    assert.equal(res.headers['content-length'], String(res.body.length));
    assert.equal(res.headers['content-disposition'], 'inline; filename="photo.png"');
    assert.equal(res.headers['cache-control'], 'private, max-age=600');
    assert.equal(res.headers['content-security-policy'], IMAGE_CSP);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.match(String(res.headers.etag), /^"[0-9a-f]{64}"$/);
    // Nothing private crosses the internal redirect.
    assert.deepEqual(
      Object.keys(res.headers).filter((h) => h.startsWith('x-sluice') || h.startsWith('x-accel')),
      [],
    );
  });

  it('accepts the base64 source form and HEAD', async () => {
    const encoded = Buffer.from('local:///photo.jpg').toString('base64url');
    const res = await get(signed(`/rs:fill:100:100/${encoded}.webp`));
    assert.equal(res.status, 200, res.text());
    assert.equal(magic(res.body), 'webp');
    assert.equal(await dimensions(res.body), '100x100');
    const head = await request(stack.port, signed(`/rs:fill:100:100/${encoded}.webp`), { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-type'], 'image/webp');
    assert.equal(head.body.length, 0);
  });

  it('refuses unsigned and tampered URLs with 403 and no image', async () => {
    const good = signed('/rs:fit:400:300/plain/local:///photo.jpg@png');
    const tampered = [
      '/img/insecure/rs:fit:400:300/plain/local:///photo.jpg@png',
      good.replace('400:300', '401:300'),
      good.replace('photo.jpg', 'big.jpg'),
      good.replace('@png', '@webp'),
      good.replace(/^\/img\/./, '/img/A'),
    ];
    for (const url of tampered) {
      const res = await get(url);
      assert.equal(res.status, 403, url);
      assert.deepEqual(res.json(), { error: 'invalid signature' });
      assert.equal(res.headers['content-disposition'], undefined);
    }
  });

  it('answers expired URLs and sources other than local:// and s3:// with 404', async () => {
    const past = Math.floor(Date.now() / 1000) - 60;
    const expired = await get(signed(`/rs:fit:400:300/exp:${past}/plain/local:///photo.jpg@png`));
    assert.equal(expired.status, 404);
    assert.deepEqual(expired.json(), { error: 'Expired URL' });
    for (const source of ['http://127.0.0.1:1/photo.jpg', 'https://example.com/photo.jpg', 'file:///etc/passwd', 's3://other-bucket/photo.jpg']) {
      const res = await get(signed(`/rs:fit:400:300/plain/${source}`));
      assert.equal(res.status, 404, source);
      assert.deepEqual(res.json(), { error: 'source not allowed' }, source);
    }
  });

  it('refuses traversal out of the local store, whatever the spelling', async () => {
    const sources = [
      'local:///../secret.jpg',
      'local:///attachments/../../secret.jpg',
      'local:///%2e%2e/secret.jpg',
      'local:///%252e%252e/secret.jpg',
      'local:///..%2fsecret.jpg',
      'local:///attachments%2f..%2f..%2fsecret.jpg',
      'local:///%c0%ae%c0%ae/secret.jpg',
      'local:///..\\secret.jpg',
      'local:////etc/passwd',
    ];
    const before = await stack.worker?.renderRequests();
    for (const source of sources) {
      // Plain (percent-decoded once, then as a path) and base64 (decoded as a path only).
      for (const url of [signed(`/rs:fit:40:30/plain/${source}@png`), signed(`/rs:fit:40:30/${Buffer.from(source).toString('base64url')}.png`)]) {
        const res = await get(url);
        assert.ok(res.status === 400 || res.status === 404, `${source}: ${res.status}`);
        assert.equal(magic(res.body), 'unknown', source);
      }
    }
    assert.equal(await stack.worker?.renderRequests(), before, 'nothing reached the worker');
  });

  it('negotiates AVIF/WebP from Accept when the URL names no format, with Vary: Accept', async () => {
    const url = signed('/rs:fit:200:150/plain/local:///photo.jpg');
    const cases: [string, string][] = [
      ['image/avif,image/webp,image/*,*/*;q=0.8', 'avif'],
      ['image/webp,*/*', 'webp'],
      ['image/avif;q=0,image/webp', 'webp'],
      ['*/*', 'jpeg'],
    ];
    for (const [accept, format] of cases) {
      const res = await get(url, { Accept: accept });
      assert.equal(res.status, 200, res.text());
      assert.equal(magic(res.body), format, accept);
      assert.equal(res.headers['content-type'], `image/${format}`);
      assert.equal(res.headers.vary, 'Accept', accept);
      assert.equal(await dimensions(res.body), '200x150');
    }
    const explicit = await get(signed('/rs:fit:200:150/plain/local:///photo.jpg@jpg'), { Accept: 'image/avif' });
    assert.equal(magic(explicit.body), 'jpeg');
    assert.equal(explicit.headers.vary, undefined);
  });

  it('renders an S3 source through a presigned URL the client never sees', async () => {
    const res = await get(signed('/rs:fit:400:300/plain/s3://media/cats/tabby%20cat.jpg@webp'));
    assert.equal(res.status, 200, res.text());
    assert.equal(magic(res.body), 'webp');
    assert.equal(await dimensions(res.body), '400x300');
    assert.equal(res.headers['content-disposition'], 'inline; filename="tabby cat.webp"');
    assert.doesNotMatch(JSON.stringify(res.headers), /X-Amz|amz-|Signature/i);
    const missing = await get(signed('/rs:fit:400:300/plain/s3://media/cats/none.jpg@webp'));
    assert.equal(missing.status, 404);
    // Presigned URLs are credentials: in no log, the app's or the worker's.
    assert.doesNotMatch(JSON.stringify(stack.logs()) + stack.worker?.output(), /X-Amz-(Signature|Credential)/);
  });

  it('accepts a Roundup-style URL: fit, a watermark preset, filename and expiry', async () => {
    const future = Math.floor(Date.now() / 1000) + 3600;
    const name = Buffer.from('Site visit ü').toString('base64url');
    const source = 'plain/local:///attachments/site%20visit%20%C3%BC.jpg@jpg';
    const marked = await get(signed(`/rs:fit:400:300/preset:mark/fn:${name}:1/exp:${future}/att:1/${source}`));
    assert.equal(marked.status, 200, marked.text());
    assert.equal(magic(marked.body), 'jpeg');
    assert.equal(await dimensions(marked.body), '400x300');
    assert.equal(marked.headers['content-disposition'], `attachment; filename="Site visit u.jpg"; filename*=UTF-8''Site%20visit%20%C3%BC.jpg`);
    // The watermark (solid magenta, bottom-right) is really there; the unmarked render has none.
    const plain = await get(signed(`/rs:fit:400:300/exp:${future}/${source}`));
    assert.equal(plain.headers['content-disposition'], `inline; filename="site visit u.jpg"; filename*=UTF-8''site%20visit%20%C3%BC.jpg`);
    const corner = async (body: Buffer): Promise<number[]> => {
      const { data } = await sharp(body).extract({ left: 390, top: 290, width: 1, height: 1 }).raw().toBuffer({ resolveWithObject: true });
      return [...data];
    };
    const [r, g, b] = await corner(marked.body);
    assert.ok((r as number) > 200 && (g as number) < 60 && (b as number) > 200, `magenta expected, got ${r},${g},${b}`);
    const [, g2] = await corner(plain.body);
    assert.ok((g2 as number) > 60, 'no watermark without the preset');
  });
});

describe('Sluice-native URLs', () => {
  const url = '/images/photos/photo.jpg?rs=fit:200:150&f=webp';

  it('needs a token (401) and a rule allowing "transform" (403)', async () => {
    const anonymous = await get(url);
    assert.equal(anonymous.status, 401);
    assert.match(String(anonymous.headers['www-authenticate']), /^Bearer/);
    const readOnly = await get(url, reader);
    assert.equal(readOnly.status, 403);
    const allowed = await get(url, staff);
    assert.equal(allowed.status, 200, allowed.text());
    assert.equal(magic(allowed.body), 'webp');
    assert.equal(await dimensions(allowed.body), '200x150');
    assert.equal(allowed.headers['content-security-policy'], IMAGE_CSP);
  });

  it('refuses traversal (400), unknown stores and missing sources (404)', async () => {
    assert.equal((await get('/images/photos/../secret.jpg?w=10', staff)).status, 400);
    assert.equal((await get('/images/photos/%2e%2e/secret.jpg?w=10', staff)).status, 400);
    assert.equal((await get('/images/nope/photo.jpg?w=10', staff)).status, 404);
    assert.equal((await get('/images/photos/none.jpg?w=10', staff)).status, 404);
    assert.equal((await get('/images/photos/photo.jpg?rotate=45', staff)).status, 404);
  });

  it('transforms S3 objects too', async () => {
    const res = await get('/images/media/cats/tabby%20cat.jpg?w=100&f=png', staff);
    assert.equal(res.status, 200, res.text());
    assert.equal(magic(res.body), 'png');
    assert.equal(await dimensions(res.body), '100x75');
  });
});

describe('the worker and the result cache', () => {
  it('refuses direct requests to the worker port (403)', async () => {
    const port = stack.worker?.port as number;
    const forged = Buffer.from(JSON.stringify({ source: { kind: 'store', store: 'photos', segments: ['photo.jpg'] } })).toString('base64url');
    const attempts: Record<string, string>[] = [{}, { 'X-Sluice-Img-Ticket': `${forged}.AAAA` }];
    for (const headers of attempts) {
      const res = await request(port, '/render', { headers });
      assert.equal(res.status, 403);
      assert.deepEqual(res.json(), { error: 'forbidden' });
    }
  });

  it('serves a repeated request from the nginx cache without touching the worker', async () => {
    const url = signed('/rs:fit:300:225/cb:cache-test/plain/local:///photo.jpg@webp');
    const before = (await stack.worker?.renderRequests()) as number;
    const first = await get(url);
    assert.equal(first.status, 200);
    assert.equal(await stack.worker?.renderRequests(), before + 1);
    const second = await get(url);
    assert.equal(second.status, 200);
    assert.deepEqual(second.body, first.body);
    assert.equal(second.headers['content-disposition'], first.headers['content-disposition']);
    assert.equal(second.headers['cache-control'], 'private, max-age=600');
    assert.equal(second.headers['content-security-policy'], IMAGE_CSP);
    const revalidated = await get(url, { 'If-None-Match': String(first.headers.etag) });
    assert.equal(revalidated.status, 304);
    assert.equal(await stack.worker?.renderRequests(), before + 1, 'hits never reach the worker');
  });

  it('authorizes every request, cached result or not', async () => {
    const url = '/images/photos/photo.jpg?w=120&f=png&cb=authz';
    assert.equal((await get(url, staff)).status, 200);
    const count = await stack.worker?.renderRequests();
    assert.equal((await get(url, reader)).status, 403);
    assert.equal((await get(url)).status, 401);
    assert.equal((await get(url, staff)).status, 200);
    assert.equal(await stack.worker?.renderRequests(), count);
  });

  it('refuses a decompression bomb and a non-image with 422', async () => {
    const bombRes = await get(signed('/rs:fit:100:100/plain/local:///bomb.jpg@png'));
    assert.equal(bombRes.status, 422, bombRes.text());
    const text = await get(signed('/rs:fit:100:100/plain/local:///notes.jpg@png'));
    assert.equal(text.status, 422, text.text());
    // An error is never a named download, nor cacheable like the image would have been.
    assert.equal(text.headers['content-disposition'], undefined);
    assert.equal(text.headers['cache-control'], 'no-store');
    assert.equal(text.headers['x-content-type-options'], 'nosniff');
  });

  it('answers 429 with Retry-After when the worker is busy and its queue is full', async () => {
    const urls = [1, 2, 3, 4].map((n) => signed(`/rs:fit:800:600/cb:busy-${n}/plain/local:///big.jpg@avif`));
    const results = await Promise.all(urls.map((url) => get(url)));
    const statuses = results.map((r) => r.status).sort();
    assert.ok(statuses.includes(200), statuses.join());
    assert.ok(statuses.includes(429), statuses.join());
    assert.deepEqual([...new Set(statuses)], [200, 429]);
    const refused = results.find((r) => r.status === 429) as RawResponse;
    assert.equal(refused.headers['retry-after'], '1');
    assert.equal(refused.headers['cache-control'], 'no-store');
    assert.deepEqual(refused.json(), { error: 'too many requests' });
  });

  // Last: stops the worker.
  it('keeps serving cached results when the worker is down; misses get a short 503', async () => {
    const cached = signed('/rs:fit:300:225/cb:cache-test/plain/local:///photo.jpg@webp');
    assert.equal((await get(cached)).status, 200);
    await stack.worker?.stop();
    const hit = await get(cached);
    assert.equal(hit.status, 200);
    assert.equal(magic(hit.body), 'webp');
    const miss = await get(signed('/rs:fit:300:225/cb:worker-down/plain/local:///photo.jpg@webp'));
    assert.equal(miss.status, 503);
    assert.deepEqual(miss.json(), { error: 'worker unavailable' });
    assert.equal(miss.headers['content-disposition'], undefined);
    assert.equal(miss.headers['cache-control'], 'no-store');
  });
});
