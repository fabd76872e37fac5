/**
 * Proves that the Swift-backed S3 test server really checks SigV4
 * signatures (a permissive fake would let the negative cases through).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { s3ClientFor, startSwiftS3, type S3TestServer } from '../helpers/swift.js';

const BUCKET = 'sluice-test-bucket';
const KEY = 'dir/hello world.txt';
const BODY = 'The quick brown fox jumps over the lazy dog';

/** Live processes that belong to `dir`: Swift ones name it on their command
 * line, memcached runs with it as working directory (Linux /proc). */
function processesOf(dir: string): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue; // zombie
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      let cwd = '';
      try {
        cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
      } catch {
        // not ours to inspect
      }
      if (cmdline.includes(dir) || cwd === dir) found.push(`${pid} ${cmdline.trim()}`);
    } catch {
      // exited while we looked
    }
  }
  return found;
}

describe('Swift S3 test server', () => {
  let server: S3TestServer;
  let s3: S3Client;

  before(async () => {
    server = await startSwiftS3();
    s3 = s3ClientFor(server);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: BODY, ContentType: 'text/plain' }));
  });

  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  const presignGet = () => getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: KEY }), { expiresIn: 300 });

  test('PutObject / GetObject round-trip through the SDK', async () => {
    const res = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY }));
    assert.equal(await res.Body?.transformToString(), BODY);
    assert.equal(res.ContentLength, BODY.length);
    assert.equal(res.ContentType, 'text/plain');
  });

  test('unsigned request is not served', async () => {
    // without any S3 auth s3api hands the request to plain Swift, which
    // answers 400 (not an S3 XML error) for a non-/v1 path
    const res = await fetch(`${server.endpoint}/${BUCKET}/${encodeURIComponent(KEY)}`);
    const text = await res.text();
    assert.ok([400, 401, 403].includes(res.status), `got ${res.status}: ${text}`);
    assert.doesNotMatch(text, /quick brown fox/);
  });

  test('presigned GET works with plain fetch', async () => {
    const res = await fetch(await presignGet());
    assert.equal(res.status, 200);
    assert.equal(await res.text(), BODY);
  });

  test('presigned GET with one signature character changed is rejected with 403', async () => {
    const url = new URL(await presignGet());
    const sig = url.searchParams.get('X-Amz-Signature');
    assert.ok(sig, 'presigned URL carries X-Amz-Signature');
    const flipped = (sig[0] === '0' ? '1' : '0') + sig.slice(1);
    url.searchParams.set('X-Amz-Signature', flipped);
    const res = await fetch(url);
    const text = await res.text();
    assert.equal(res.status, 403, text);
    assert.match(text, /SignatureDoesNotMatch/);
  });

  test('GET-signed URL used with HEAD is rejected with 403', async () => {
    const res = await fetch(await presignGet(), { method: 'HEAD' });
    assert.equal(res.status, 403);
  });

  test('HEAD-signed URL works for HEAD', async () => {
    const url = await getSignedUrl(s3, new HeadObjectCommand({ Bucket: BUCKET, Key: KEY }), { expiresIn: 300 });
    const res = await fetch(url, { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), String(BODY.length));
  });

  test('suffix Range on a presigned GET gives 206 with the last bytes', async () => {
    const res = await fetch(await presignGet(), { headers: { Range: 'bytes=-5' } });
    assert.equal(res.status, 206);
    assert.equal(res.headers.get('content-range'), `bytes ${BODY.length - 5}-${BODY.length - 1}/${BODY.length}`);
    assert.equal(await res.text(), BODY.slice(-5));
  });

  test('presigned GET sent with an Authorization header is rejected', async () => {
    // AWS answers 400 InvalidArgument ("Only one auth mechanism allowed").
    // Swift's s3api would serve the object; the launcher adds a small filter
    // (s3_single_auth) in front of s3api to behave like AWS here.
    const res = await fetch(await presignGet(), { headers: { Authorization: 'Bearer x' } });
    const text = await res.text();
    assert.ok(res.status === 400 || res.status === 403, `expected 400 or 403, got ${res.status}: ${text}`);
    assert.doesNotMatch(text, /quick brown fox/);
  });

  test('wrong secret key is rejected', async () => {
    const bad = s3ClientFor({ ...server, secretAccessKey: 'not-the-secret' });
    try {
      await assert.rejects(bad.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY })), (err: unknown) => {
        assert.equal((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 403);
        return true;
      });
    } finally {
      bad.destroy();
    }
  });

  // keep last: it stops the server (after() then finds stop() already done)
  test('stop() ends every process it started and removes the directory', { skip: process.platform !== 'linux' }, async () => {
    const running = processesOf(server.dir);
    assert.ok(
      running.some((p) => p.includes('memcached')),
      `memcached not found:\n${running.join('\n')}`,
    );
    assert.ok(running.length >= 6, `expected memcached + launcher + 4 servers:\n${running.join('\n')}`);
    await server.stop();
    await server.stop(); // idempotent
    assert.deepEqual(processesOf(server.dir), []);
    assert.equal(fs.existsSync(server.dir), false);
    assert.match(server.logs(), /proxy-server/); // logs survive stop()
  });
});
