// No secret is ever logged, and every answer carries the security headers: a full mixed session
// (bearer tokens, cookies, share links, presigned URLs, transform tickets, keys from the config,
// denials and errors) at debug level, then every line of the app, worker and nginx logs is
// scanned for the secrets used.
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { mintToken } from '../../src/auth/mint.js';
import { request, type RawResponse } from '../helpers/http.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { s3ClientFor, startSwiftS3, type S3TestServer, s3StoreAccess } from '../helpers/swift.js';
import { TEST_SECRET, testAuthConfig } from '../helpers/tokens.js';
import { signImgproxyPath } from '../helpers/worker.js';

const KEY = Buffer.from('logs-transform-key').toString('hex');
const SALT = Buffer.from('logs-transform-salt').toString('hex');
const LINK_SECRET = 'logs-share-link-secret-0123456789abcdef';
const WORKER_SECRET = 'logs-worker-secret-0123456789abcdef';

let base: string;
let s3: S3TestServer;
let stack: Stack;
const secrets = new Set<string>([TEST_SECRET, LINK_SECRET, WORKER_SECRET, KEY, SALT]);

async function token(sub: string, claims: Record<string, unknown> = {}): Promise<string> {
  const t = await mintToken({ secret: TEST_SECRET, sub, ttlSeconds: 300, claims });
  secrets.add(t);
  secrets.add(t.split('.')[2] as string);
  return t;
}

before(async () => {
  const swift = startSwiftS3();
  base = await mkdtemp(path.join(os.tmpdir(), 'sluice-attack-logs-'));
  await chmod(base, 0o755);
  const root = path.join(base, 'store');
  await mkdir(path.join(root, 'alice'), { recursive: true });
  await writeFile(path.join(root, 'alice', 'report.txt'), 'report');
  await writeFile(path.join(root, 'alice', 'page.html'), '<script>alert(1)</script>');
  await writeFile(
    path.join(root, 'alice', 'photo.png'),
    await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 1, g: 2, b: 3 } } })
      .png()
      .toBuffer(),
  );
  s3 = await swift;
  const client = s3ClientFor(s3);
  await client.send(new CreateBucketCommand({ Bucket: 'media' }));
  await client.send(new PutObjectCommand({ Bucket: 'media', Key: 'alice/clip.txt', Body: 'clip' }));
  await client.send(new PutObjectCommand({ Bucket: 'media', Key: 'alice/logo.svg', Body: '<svg xmlns="http://www.w3.org/2000/svg"/>' }));
  const s3Store = {
    type: 's3',
    bucket: 'media',
    ...s3StoreAccess(s3),
  };
  stack = await startStack(
    {
      stores: { docs: { type: 'fs', root }, media: s3Store, redirected: { ...s3Store, delivery: 'redirect' }, streamed: { ...s3Store, delivery: 'stream' } },
      auth: testAuthConfig,
      rules: [{ id: 'own', key: ':owner/*rest', actions: ['read', 'head', 'share', 'transform'], when: [{ claim: 'sub', equalsParam: 'owner' }] }],
      sharing: { keys: [{ kid: 'k1', secret: LINK_SECRET }] },
      transform: { enabled: true, keys: [KEY], salts: [SALT], localStore: 'docs' },
      worker: { secret: WORKER_SECRET },
    },
    { worker: true, logLevel: 'trace' },
  );
});

after(async () => {
  await stack?.stop();
  await s3?.stop();
  if (base !== undefined) await rm(base, { recursive: true, force: true });
});

function assertSecurityHeaders(res: RawResponse, what: string): void {
  assert.equal(res.headers['x-content-type-options'], 'nosniff', what);
  if (res.status === 200) assert.match(String(res.headers['cache-control']), /private|no-store/, what);
}

describe('a full mixed session', () => {
  it('serves and refuses with security headers on every answer', async () => {
    const alice = await token('alice', { jti: 'alice-jti-1' });
    const bob = await token('bob');
    const auth = { Authorization: `Bearer ${alice}` };
    const answers: [string, RawResponse][] = [];
    const get = async (p: string, headers: Record<string, string> = auth, method = 'GET'): Promise<RawResponse> => {
      const res = await request(stack.port, p, { headers, method });
      answers.push([p, res]);
      return res;
    };
    for (const store of ['docs', 'media', 'streamed']) {
      const file = store === 'docs' ? 'alice/report.txt' : 'alice/clip.txt';
      assert.equal((await get(`/files/${store}/${file}`)).status, 200);
      assert.equal((await get(`/files/${store}/${file}`, auth, 'HEAD')).status, 200);
      assert.equal((await get(`/files/${store}/${file}`, { Authorization: `Bearer ${bob}` })).status, 403);
      assert.equal((await get(`/files/${store}/${file}`, {})).status, 401);
      assert.equal((await get(`/files/${store}/alice/missing.txt`)).status, 404);
      assert.equal((await get(`/files/${store}/alice/%2e%2e/x`)).status, 400);
    }
    // Cookie transport, a broken token, and user content that must be sandboxed.
    assert.equal((await get('/files/docs/alice/report.txt', { Cookie: `sluice_session=${alice}` })).status, 200);
    assert.equal((await get('/files/docs/alice/report.txt', { Authorization: `Bearer ${alice.slice(0, -3)}xyz` })).status, 401);
    for (const p of ['/files/docs/alice/page.html', '/files/media/alice/logo.svg', '/files/streamed/alice/logo.svg']) {
      const res = await get(p);
      assert.equal(res.status, 200, p);
      assert.match(String(res.headers['content-security-policy']), /sandbox/, p);
      assert.match(String(res.headers['content-disposition']), /^attachment/, p);
    }
    // Redirect mode: the presigned URL goes to the client — and must go nowhere else.
    const redirect = await get('/files/redirected/alice/clip.txt');
    assert.equal(redirect.status, 302);
    const location = new URL(String(redirect.headers.location));
    const signature = location.searchParams.get('X-Amz-Signature') as string;
    assert.ok(signature.length > 20);
    secrets.add(signature);
    // Share link: minted, used, tampered.
    const minted = await fetch(`http://127.0.0.1:${stack.port}/files/_share`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ store: 'docs', key: 'alice/report.txt', expiresIn: 600 }),
    });
    const link = (await minted.json()) as { token: string; url: string };
    secrets.add(link.token);
    secrets.add(link.token.split('.')[2] as string);
    assert.equal((await get(link.url, {})).status, 200);
    assert.equal((await get(`${link.url.slice(0, -2)}AA`, {})).status, 401);
    // Transforms: signed imgproxy URL (its signature is a credential) and the native route.
    const signedPath = signImgproxyPath('/rs:fit:20:20/plain/local:///alice/photo.png@png', KEY, SALT);
    secrets.add(signedPath.split('/')[1] as string);
    assert.equal((await get(`/img${signedPath}`, {})).status, 200);
    assert.equal((await get('/images/docs/alice/photo.png?w=10')).status, 200);
    assert.equal((await get('/images/docs/alice/photo.png?w=10', { Authorization: `Bearer ${bob}` })).status, 403);
    for (const [p, res] of answers) assertSecurityHeaders(res, p);
  });

  it('no log line of the app, the worker or nginx contains any secret used', () => {
    const sources: Record<string, string[]> = {
      app: stack.logs().map((l) => JSON.stringify(l)),
      worker: (stack.worker?.output() ?? '').split('\n'),
      nginx: stack.nginx.stderr().split('\n'),
    };
    assert.ok(sources.app && sources.app.length > 50, 'the app logged the session');
    const leaks: string[] = [];
    for (const [source, lines] of Object.entries(sources)) {
      for (const line of lines) {
        for (const secret of secrets) if (line.includes(secret)) leaks.push(`${source}: ${secret.slice(0, 12)}… in ${line.slice(0, 160)}`);
        if (/X-Amz-(Signature|Credential)=/i.test(line)) leaks.push(`${source}: presigned URL in ${line.slice(0, 160)}`);
        if (/Bearer [A-Za-z0-9_-]+\./.test(line)) leaks.push(`${source}: bearer token in ${line.slice(0, 160)}`);
        if (/\bat .+\.(ts|js):\d+:\d+/.test(line) && source !== 'nginx') leaks.push(`${source}: stack trace in ${line.slice(0, 160)}`);
      }
    }
    assert.ok(secrets.size >= 10);
    assert.deepEqual(leaks, []);
  });
});
