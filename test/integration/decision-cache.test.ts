// The decision cache inside nginx (docs/nginx.md "Decision cache"), through real nginx, real Redis and a
// real signature-checking S3 server (Swift s3api): hits and misses answer byte for byte alike,
// callers never share an entry, revocations, expiries and rule changes take effect within the
// stated bound, one-time links never come from the cache, every hit leaves an audit line, and the
// cache files hold no credential.
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { mintToken } from '../../src/auth/mint.js';
import { validateConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/observability/logger.js';
import { startSluice, type RunningSluice } from '../../src/server.js';
import { assertExpiryBound, assertRevocationBound, firstRefusal } from '../helpers/decision-bounds.js';
import { request, type RawResponse } from '../helpers/http.js';
import { startRedis, type RedisTestServer } from '../helpers/redis.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { s3ClientFor, startSwiftS3, type S3TestServer, s3StoreAccess } from '../helpers/swift.js';
import { TEST_SECRET, testAuthConfig } from '../helpers/tokens.js';

const TTL = 2;
const LINK_SECRET = 'decision-cache-link-secret-0123456789abcdef';
const CONTENT = 'decision cache: the same bytes on every path 0123456789';

async function token(sub: string, claims: Record<string, unknown> = {}, ttlSeconds = 300): Promise<string> {
  return mintToken({ secret: TEST_SECRET, sub, ttlSeconds, claims });
}

const auth = (jwt: string): Record<string, string> => ({ Authorization: `Bearer ${jwt}` });

/** nginx's audit lines (the runtime directory of the rendered full config). */
async function auditLines(stack: Stack): Promise<Record<string, string>[]> {
  const text = await readFile(path.join(stack.dir, 'nginx', 'run', 'sluice-audit.log'), 'latin1').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(Buffer.from(line, 'latin1').toString('utf8')) as Record<string, string>);
}

/**
 * nginx buffers its audit lines (nginx.decisionCache.auditLogBuffer) and writes them within the
 * flush interval (1 s by default): poll for them until that has passed with room to spare.
 */
async function auditFor(stack: Stack, key: string, count: number): Promise<Record<string, string>[]> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const lines = (await auditLines(stack)).filter((l) => l.key === key);
    if (lines.length >= count || Date.now() > deadline) return lines;
    await new Promise((r) => setTimeout(r, 20));
  }
}

function appAudits(stack: Stack, key: string): Record<string, unknown>[] {
  return stack
    .logs()
    .map((l) => l.audit as Record<string, unknown> | undefined)
    .filter((a): a is Record<string, unknown> => a !== undefined && a.key === key);
}

/** Status, headers (without Date) and body: what must not differ between a hit and a miss. */
function comparable(res: RawResponse): { status: number; headers: string[]; body: string } {
  const raw = res.rawHeaders ?? [];
  const headers: string[] = [];
  for (let i = 0; i < raw.length; i += 2)
    if ((raw[i] as string).toLowerCase() !== 'date') headers.push(`${(raw[i] as string).toLowerCase()}: ${raw[i + 1] as string}`);
  return { status: res.status, headers, body: res.body.toString('base64') };
}

/** The same, with headers in any order (nginx adds the carried headers after its own). */
function unordered(res: RawResponse): { status: number; headers: string[]; body: string } {
  const result = comparable(res);
  return { ...result, headers: [...result.headers].sort() };
}

/** Every file under dir, as bytes. */
async function filesUnder(dir: string): Promise<Buffer[]> {
  const result: Buffer[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) result.push(await readFile(path.join(entry.parentPath, entry.name)));
  }
  return result;
}

async function assertNoCredentialOnDisk(stack: Stack, secrets: readonly string[]): Promise<void> {
  const files = await filesUnder(path.join(stack.dir, 'nginx', 'run', 'decision-cache'));
  assert.ok(files.length > 0, 'the cache holds entries');
  for (const file of files) {
    const text = file.toString('latin1');
    assert.match(text, /KEY: /);
    for (const secret of secrets) {
      const [header, payload] = secret.split('.');
      assert.ok(!text.includes(secret), 'a whole credential in a cache file');
      assert.ok(!text.includes(`${header}.${payload}`), 'a token header+payload in a cache file');
      assert.ok(!text.includes(payload as string), 'a token payload in a cache file');
    }
  }
}

async function mint(stack: Stack, headers: Record<string, string>, body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${stack.port}/files/_share`, {
    method: 'POST',
    headers: { ...headers, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 201, await res.clone().text());
  return ((await res.json()) as { token: string }).token;
}

describe('decision cache, fs store', () => {
  let redis: RedisTestServer;
  let stack: Stack;
  let root: string;

  before(async () => {
    redis = await startRedis();
    const base = await mkdtemp(path.join(os.tmpdir(), 'sluice-dc-'));
    await chmod(base, 0o755);
    root = path.join(base, 'store');
    for (const key of [
      'open/a.txt',
      'open/b.bin',
      'open/revoke.txt',
      'open/expire.txt',
      'open/once.txt',
      'open/link.txt',
      'open/forged.txt',
      'open/odd.txt',
      'mine/m.txt',
      'public/p.txt',
      'nocache/n.txt',
      'open/ü ñ.txt',
    ]) {
      const file = path.join(root, ...key.split('/'));
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, `${CONTENT} ${key}`);
    }
    await mkdir(path.join(root, 'open', 'dir'), { recursive: true });
    stack = await startStack(
      {
        redisUrl: redis.url,
        // `plain` serves the same directory the classic way (X-Accel-Redirect), for comparison.
        stores: { docs: { type: 'fs', root, decisionCache: { ttlSeconds: TTL } }, plain: { type: 'fs', root } },
        auth: { ...testAuthConfig, clockToleranceSeconds: 0 },
        rules: [
          { id: 'public', key: 'public/*rest', when: [{ public: true }] },
          { id: 'mine', key: 'mine/*rest', when: [{ claim: 'sub', equals: 'alice' }] },
          { id: 'nocache', key: 'nocache/*rest', when: [{ authenticated: true }], cacheSeconds: 0 },
          { id: 'open', key: 'open/*rest', actions: ['read', 'head', 'share'], when: [{ authenticated: true }], limitRate: '10m' },
        ],
        sharing: { keys: [{ kid: 'k1', secret: LINK_SECRET }] },
      },
      { mimeTypes: true },
    );
  });

  after(async () => {
    await stack?.stop();
    await redis?.stop();
    if (root !== undefined) await rm(path.dirname(root), { recursive: true, force: true });
  });

  it('answers a hit exactly as the miss before it, and as the classic path: GET, HEAD, Range, If-None-Match, download', async () => {
    const alice = auth(await token('alice'));
    const plainMiss = await request(stack.port, '/files/plain/open/a.txt', { headers: alice });
    const etag = String(plainMiss.headers.etag);
    const variants: { name: string; path: string; method?: string; headers?: Record<string, string> }[] = [
      { name: 'GET', path: '/open/a.txt' },
      { name: 'HEAD', path: '/open/a.txt', method: 'HEAD' },
      { name: 'Range', path: '/open/a.txt', headers: { Range: 'bytes=3-9' } },
      { name: 'suffix Range', path: '/open/a.txt', headers: { Range: 'bytes=-5' } },
      { name: 'If-None-Match', path: '/open/a.txt', headers: { 'If-None-Match': etag } },
      { name: 'download', path: '/open/a.txt?download=1' },
      { name: 'unicode key', path: '/open/%C3%BC%20%C3%B1.txt' },
      { name: 'binary type', path: '/open/b.bin', headers: { Range: 'bytes=0-0' } },
    ];
    for (const variant of variants) {
      const options = { method: variant.method ?? 'GET', headers: { ...alice, ...variant.headers } };
      const classic = unordered(await request(stack.port, `/files/plain${variant.path}`, options));
      const missResponse = await request(stack.port, `/files/docs${variant.path}`, options);
      const miss = comparable(missResponse);
      const hit = comparable(await request(stack.port, `/files/docs${variant.path}`, options));
      assert.deepEqual(hit, miss, `${variant.name}: hit = miss`);
      assert.deepEqual(unordered(missResponse), classic, `${variant.name}: decision cache = classic X-Accel-Redirect`);
    }
    const lines = await auditFor(stack, 'open/a.txt', 12);
    assert.ok(
      lines.some(
        (l) => l.cache === 'HIT' && l.source === 'nginx-cache' && l.subject === 'alice' && l.store === 'docs' && l.decision === 'allow' && l.rule === 'open',
      ),
    );
    assert.ok(lines.some((l) => l.status === '206'));
    assert.ok(lines.some((l) => l.status === '304'));
    assert.ok((await auditFor(stack, 'open/ü ñ.txt', 2)).some((l) => l.cache === 'HIT'));
  });

  it('answers repeated requests from nginx, with one audit line per request either way', async () => {
    const bob = auth(await token('bob'));
    const before = appAudits(stack, 'open/odd.txt').length;
    for (let i = 0; i < 5; i += 1) assert.equal((await request(stack.port, '/files/docs/open/odd.txt', { headers: bob })).status, 200);
    const app = appAudits(stack, 'open/odd.txt').length - before;
    const lines = (await auditFor(stack, 'open/odd.txt', 5)).filter((l) => l.subject === 'bob');
    assert.equal(lines.length, 5, 'one nginx audit line per request');
    const hits = lines.filter((l) => l.cache === 'HIT');
    assert.ok(hits.length >= 3, `hits: ${hits.length}`);
    // Every request the app did not see is an nginx hit, and each hit has its line.
    assert.equal(app + hits.length, 5);
    for (const hit of hits) assert.equal(hit.source, 'nginx-cache');
  });

  it('never lets two tokens, or a token and a cookie, share an entry', async () => {
    const alice = await token('alice');
    const mallory = await token('mallory');
    assert.equal((await request(stack.port, '/files/docs/mine/m.txt', { headers: auth(alice) })).status, 200);
    assert.equal((await request(stack.port, '/files/docs/mine/m.txt', { headers: auth(alice) })).status, 200);
    // Another token right after (the entry is fresh): decided by the app, refused.
    const other = await request(stack.port, '/files/docs/mine/m.txt', { headers: auth(mallory) });
    assert.equal(other.status, 403);
    assert.doesNotMatch(other.text(), /decision cache/);
    // The same token as a cookie is its own entry (a miss first).
    const before = appAudits(stack, 'mine/m.txt').length;
    assert.equal((await request(stack.port, '/files/docs/mine/m.txt', { headers: { Cookie: `sluice_session=${alice}` } })).status, 200);
    assert.equal(appAudits(stack, 'mine/m.txt').length, before + 1, 'the cookie request reached the app');
    // A forged token carrying alice's signature finds alice's entry but fails the binding.
    const [, , aliceSig] = alice.split('.');
    const [mh, mp] = mallory.split('.');
    const forged = await request(stack.port, '/files/docs/mine/m.txt', { headers: auth(`${mh}.${mp}.${aliceSig}`) });
    assert.equal(forged.status, 401);
    assert.doesNotMatch(forged.text(), /decision cache/);
    const cookieForged = await request(stack.port, '/files/docs/mine/m.txt', { headers: { Cookie: `sluice_session=${mh}.${mp}.${aliceSig}` } });
    assert.equal(cookieForged.status, 401);
  });

  it('decides requests the cache key cannot describe every time (bypass), and still serves them', async () => {
    const carol = await token('carol');
    const odd: Record<string, string>[] = [
      { Authorization: `bearer  ${carol}` },
      { Authorization: `Bearer ${carol}`, Cookie: `sluice_session=x; SLUICE_SESSION=${carol}` },
      { Cookie: `sluice_session="${carol}"` },
    ];
    for (const headers of odd) {
      // The app reads each of these as carol's token (the Bearer header wins over the cookie).
      for (let i = 0; i < 2; i += 1) assert.equal((await request(stack.port, '/files/docs/open/odd.txt', { headers })).status, 200);
    }
    // Unknown query parameters (e.g. an encoded "share") are never cached.
    assert.equal((await request(stack.port, '/files/docs/open/odd.txt?sh%61re=x', { headers: auth(carol) })).status, 401);
    for (let i = 0; i < 2; i += 1) assert.equal((await request(stack.port, '/files/docs/open/odd.txt?v=1', { headers: auth(carol) })).status, 200);
    const lines = (await auditFor(stack, 'open/odd.txt', 20)).filter((l) => l.subject === 'carol');
    assert.ok(lines.length >= 8);
    for (const line of lines) assert.notEqual(line.cache, 'HIT', JSON.stringify(line));
  });

  it('lets anonymous callers share an entry only for public keys, and never caches a denial', async () => {
    for (let i = 0; i < 3; i += 1) assert.equal((await request(stack.port, '/files/docs/public/p.txt')).status, 200);
    assert.ok((await auditFor(stack, 'public/p.txt', 3)).some((l) => l.cache === 'HIT' && l.subject === '-'));
    const before = appAudits(stack, 'open/a.txt').filter((a) => a.decision === 'deny').length;
    for (let i = 0; i < 3; i += 1) {
      const res = await request(stack.port, '/files/docs/open/a.txt');
      assert.equal(res.status, 401);
      assert.match(String(res.headers['www-authenticate']), /^Bearer/);
      assert.deepEqual(res.json(), { error: 'authentication required' });
    }
    assert.equal(appAudits(stack, 'open/a.txt').filter((a) => a.decision === 'deny').length, before + 3, 'every denial reached the app');
  });

  it('never caches decisions of a rule with cacheSeconds: 0', async () => {
    const dave = auth(await token('dave'));
    for (let i = 0; i < 3; i += 1) assert.equal((await request(stack.port, '/files/docs/nocache/n.txt', { headers: dave })).status, 200);
    assert.equal(appAudits(stack, 'nocache/n.txt').length, 3);
  });

  it('refuses a raw "#" as the classic path does, every time: the decision and the file never split', async () => {
    const bob = auth(await token('bob'));
    for (const target of ['open/a.txt#/../../mine/m.txt', 'mine/m.txt#', 'open/a.txt#?x']) {
      const classic = await request(stack.port, `/files/plain/${target}`, { headers: bob });
      assert.equal(classic.status, 400, target);
      for (let i = 0; i < 2; i += 1) {
        const res = await request(stack.port, `/files/docs/${target}`, { headers: bob });
        assert.equal(res.status, 400, `${target} (request ${i + 1})`);
        assert.deepEqual(res.json(), classic.json());
        assert.doesNotMatch(res.text(), /decision cache: the same bytes/);
      }
    }
  });

  it('answers missing files, directories and bad keys as the classic path does, naming no internal location', async () => {
    const alice = auth(await token('alice'));
    for (const key of ['open/missing.txt', 'open/dir', 'open/dir/', 'open/%2e%2e/x', 'open//a.txt', 'open/a.txt/..']) {
      const classic = await request(stack.port, `/files/plain/${key}`, { headers: alice });
      for (let i = 0; i < 2; i += 1) {
        const res = await request(stack.port, `/files/docs/${key}`, { headers: alice });
        assert.equal(res.status, classic.status, key);
        assert.ok(res.status === 404 || res.status === 400, `${key}: ${res.status}`);
        assert.deepEqual(res.json(), classic.json());
        assert.equal(res.headers.location, undefined);
        assert.doesNotMatch(res.text(), /_sluice/);
      }
    }
  });

  it('stops serving a revoked jti within the TTL, and not later', async () => {
    const jwt = await token('erin', { jti: 'erin-1' });
    const send = (): Promise<RawResponse> => request(stack.port, '/files/docs/open/revoke.txt', { headers: auth(jwt) });
    await assertRevocationBound(send, () => request(stack.port, '/files/_share/tokens/erin-1', { method: 'DELETE', headers: auth(jwt) }), TTL);
  });

  it('never serves an expired token from the cache', async () => {
    const jwt = await token('frank', {}, 3);
    const send = (): Promise<RawResponse> => request(stack.port, '/files/docs/open/expire.txt', { headers: auth(jwt) });
    await assertExpiryBound(send, jwt, TTL);
  });

  it('never serves a one-time link from the cache; caches an unlimited one', async () => {
    const alice = auth(await token('alice'));
    const once = await mint(stack, alice, { store: 'docs', key: 'open/once.txt', maxDownloads: 1, expiresIn: 600 });
    assert.equal((await request(stack.port, `/files/docs/open/once.txt?share=${once}`)).status, 200);
    for (let i = 0; i < 3; i += 1) assert.equal((await request(stack.port, `/files/docs/open/once.txt?share=${once}`)).status, 410);
    for (const line of await auditFor(stack, 'open/once.txt', 4)) assert.notEqual(line.cache, 'HIT');

    const link = await mint(stack, alice, { store: 'docs', key: 'open/link.txt', expiresIn: 600 });
    for (let i = 0; i < 3; i += 1) {
      const res = await request(stack.port, `/files/docs/open/link.txt?share=${link}&download=1`);
      assert.equal(res.status, 200);
      assert.match(String(res.headers['content-disposition']), /^attachment/);
    }
    assert.ok((await auditFor(stack, 'open/link.txt', 3)).some((l) => l.cache === 'HIT'));
    // The link's entry is its own: not the anonymous caller's, not another flag's, not another link's.
    assert.equal((await request(stack.port, '/files/docs/open/link.txt?download=1')).status, 401);
    assert.equal((await request(stack.port, '/files/docs/open/link.txt')).status, 401);
    const inline = await request(stack.port, `/files/docs/open/link.txt?share=${link}`);
    assert.match(String(inline.headers['content-disposition']), /^inline/);
    const [lh, lp] = link.split('.');
    assert.equal((await request(stack.port, `/files/docs/open/link.txt?share=${lh}.${lp}.${once.split('.')[2] as string}&download=1`)).status, 401);
    await assertNoCredentialOnDisk(stack, [once, link]);
  });

  it('keeps no credential in the cache files', async () => {
    const grace = await token('grace');
    for (let i = 0; i < 2; i += 1) {
      await request(stack.port, '/files/docs/open/a.txt', { headers: auth(grace) });
      await request(stack.port, '/files/docs/open/a.txt', { headers: { Cookie: `other=1; sluice_session=${grace}` } });
    }
    await assertNoCredentialOnDisk(stack, [grace]);
  });
});

describe('decision cache, rule change (app restarted with new rules)', () => {
  let stack: Stack;
  let root: string;
  let replacement: RunningSluice | undefined;

  before(async () => {
    const base = await mkdtemp(path.join(os.tmpdir(), 'sluice-dc-rules-'));
    await chmod(base, 0o755);
    root = path.join(base, 'store');
    await mkdir(path.join(root, 'team'), { recursive: true });
    await writeFile(path.join(root, 'team', 't.txt'), CONTENT);
  });

  after(async () => {
    if (replacement !== undefined) {
      await stack.nginx.stop();
      await replacement.close();
      await rm(stack.dir, { recursive: true, force: true });
    } else {
      await stack?.stop();
    }
    if (root !== undefined) await rm(path.dirname(root), { recursive: true, force: true });
  });

  it('stops serving a decision the new rules deny within the TTL, and not later', async () => {
    const raw = {
      stores: { docs: { type: 'fs', root, decisionCache: { ttlSeconds: TTL } } },
      auth: testAuthConfig,
      rules: [{ id: 'team', key: 'team/*rest', when: [{ authenticated: true }] }],
    };
    stack = await startStack(raw);
    const jwt = auth(await token('henry'));
    const send = (): Promise<RawResponse> => request(stack.port, '/files/docs/team/t.txt', { headers: jwt });
    assert.equal((await send()).status, 200);
    assert.equal((await send()).status, 200);
    // The operator removes the rule and restarts the app (nginx keeps running, with its cache).
    await stack.app.close();
    const changed = validateConfig({ ...raw, rules: [], host: stack.config.host, port: stack.config.port, appPort: stack.app.port });
    replacement = await startSluice(changed, { logger: createLogger('silent') });
    const changedAt = Date.now();
    const refusedAt = await firstRefusal(send, (res) => res.status === 403, changedAt + (TTL + 5) * 1000);
    assert.ok(refusedAt !== null && refusedAt - changedAt <= (TTL + 1) * 1000, `refused after ${refusedAt === null ? 'never' : refusedAt - changedAt} ms`);
    assert.equal((await send()).status, 403);
  });
});

describe('decision cache, S3 store (Swift s3api)', () => {
  let s3: S3TestServer;
  let stack: Stack;
  const key = 'reports/q1 ü.pdf';

  before(async () => {
    s3 = await startSwiftS3();
    const client = s3ClientFor(s3);
    await client.send(new CreateBucketCommand({ Bucket: 'media' }));
    await client.send(new PutObjectCommand({ Bucket: 'media', Key: key, Body: CONTENT }));
    const store = {
      type: 's3',
      bucket: 'media',
      ...s3StoreAccess(s3),
    };
    stack = await startStack({
      stores: { media: { ...store, decisionCache: { ttlSeconds: TTL } }, plain: store },
      auth: testAuthConfig,
      rules: [{ id: 'read', key: '*rest', when: [{ authenticated: true }] }],
    });
  });

  after(async () => {
    await stack?.stop();
    await s3?.stop();
  });

  it('answers hits exactly as misses and as the classic path: GET, HEAD, Range, If-None-Match, download', async () => {
    const jwt = await token('ivy');
    const headers = auth(jwt);
    const encoded = '/reports/q1%20%C3%BC.pdf';
    const classicGet = await request(stack.port, `/files/plain${encoded}`, { headers });
    assert.equal(classicGet.status, 200);
    const etag = String(classicGet.headers.etag);
    const variants: { name: string; method?: string; query?: string; headers?: Record<string, string> }[] = [
      { name: 'GET' },
      { name: 'HEAD', method: 'HEAD' },
      { name: 'GET after HEAD' },
      { name: 'Range', headers: { Range: 'bytes=2-7' } },
      { name: 'If-None-Match', headers: { 'If-None-Match': etag } },
      { name: 'download', query: '?download=1' },
    ];
    for (const variant of variants) {
      const options = { method: variant.method ?? 'GET', headers: { ...headers, ...variant.headers } };
      const suffix = `${encoded}${variant.query ?? ''}`;
      const classic = unordered(await request(stack.port, `/files/plain${suffix}`, options));
      const missResponse = await request(stack.port, `/files/media${suffix}`, options);
      const miss = comparable(missResponse);
      const hit = comparable(await request(stack.port, `/files/media${suffix}`, options));
      assert.deepEqual(hit, miss, `${variant.name}: hit = miss`);
      assert.deepEqual(unordered(missResponse), classic, `${variant.name}: decision cache = classic X-Accel-Redirect`);
    }
    const lines = await auditFor(stack, key, 12);
    assert.ok(
      lines.some((l) => l.cache === 'HIT' && l.source === 'nginx-cache' && l.subject === 'ivy' && l.store === 'media'),
      JSON.stringify(await auditLines(stack)),
    );
    await assertNoCredentialOnDisk(stack, [jwt]);
  });

  it('refuses without a token and keeps storage errors short', async () => {
    assert.equal((await request(stack.port, '/files/media/reports/none.pdf')).status, 401);
    const res = await request(stack.port, '/files/media/reports/none.pdf', { headers: auth(await token('ivy')) });
    assert.equal(res.status, 404);
    assert.deepEqual(res.json(), { error: 'not found' });
  });
});
