// Share links, revocation and rate limits across TWO Sluice instances (each behind its own real
// nginx) sharing one real Redis: counts, revocations and buckets must agree between them.
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { validateConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/observability/logger.js';
import { startSluice } from '../../src/server.js';
import { request, type RawResponse } from '../helpers/http.js';
import { startRedis, type RedisTestServer } from '../helpers/redis.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { bearer, testAuthConfig } from '../helpers/tokens.js';

const OLD_KEY = { kid: 'k1', secret: 'share-link-secret-one-0123456789abcdef' };
const NEW_KEY = { kid: 'k2', secret: 'share-link-secret-two-0123456789abcdef' };

let redis: RedisTestServer;
let a: Stack;
let b: Stack;
let root: string;

function baseConfig(keys: readonly { kid: string; secret: string }[]): Record<string, unknown> {
  return {
    stores: { docs: { type: 'fs', root }, other: { type: 'fs', root } },
    auth: testAuthConfig,
    rules: [
      { id: 'alice-reports', store: 'docs', key: 'reports/*rest', actions: ['read', 'head', 'share'], when: [{ claim: 'sub', equals: 'alice' }] },
      { id: 'own-folder', key: 'users/:owner/*rest', actions: ['read', 'head', 'share'], when: [{ claim: 'sub', equalsParam: 'owner' }] },
    ],
    sharing: {
      keys,
      maxExpiresInSeconds: 3600,
      admin: { claim: 'roles', value: 'sluice-admin' },
      // Generous burst: every test uses its own subjects; only "rita" is meant to run out.
      rateLimit: { requestsPerSecond: 1, burst: 30 },
    },
  };
}

async function put(key: string, content: string): Promise<void> {
  const file = path.join(root, ...key.split('/'));
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
}

async function api(
  stack: Stack,
  method: string,
  rawPath: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> | null }> {
  const res = await fetch(`http://127.0.0.1:${stack.port}${rawPath}`, {
    method,
    headers: body === undefined ? headers : { ...headers, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text === '' ? null : (JSON.parse(text) as Record<string, unknown>) };
}

interface Minted {
  readonly id: string;
  readonly token: string;
  readonly url: string;
}

async function mint(stack: Stack, headers: Record<string, string>, body: Record<string, unknown>): Promise<Minted> {
  const res = await api(stack, 'POST', '/files/_share', headers, { store: 'docs', expiresIn: 600, ...body });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  return res.json as unknown as Minted;
}

before(async () => {
  const base = await mkdtemp(path.join(os.tmpdir(), 'sluice-sharing-'));
  await chmod(base, 0o755);
  root = path.join(base, 'store');
  await put('reports/q1.txt', 'report q1');
  await put('reports/q2.txt', 'report q2');
  await put('reports-archive/old.txt', 'archived');
  await put('secret.txt', 'SECRET');
  for (const user of ['tom', 'tina', 'bob']) await put(`users/${user}/notes.txt`, `${user} notes`);
  redis = await startRedis();
  // A rotation in progress: both verify both keys; A still signs with the old one, B with the new.
  a = await startStack({ ...baseConfig([OLD_KEY, NEW_KEY]), redisUrl: redis.url });
  b = await startStack({ ...baseConfig([NEW_KEY, OLD_KEY]), redisUrl: redis.url });
});

after(async () => {
  await a?.stop();
  await b?.stop();
  await redis?.stop();
  if (root !== undefined) await rm(path.dirname(root), { recursive: true, force: true });
});

describe('share links across two instances sharing Redis', () => {
  it('a one-time link works exactly once, whichever instance serves it', async () => {
    const alice = await bearer('alice');
    const link = await mint(a, alice, { key: 'reports/q1.txt', maxDownloads: 1 });
    assert.match(link.url, /^\/files\/docs\/reports\/q1\.txt\?share=/);
    const first = await request(b.port, link.url);
    assert.equal(first.status, 200);
    assert.equal(first.text(), 'report q1');
    for (const stack of [a, b]) {
      const again = await request(stack.port, link.url);
      assert.equal(again.status, 410);
      assert.deepEqual(again.json(), { error: 'share link used up' });
      assert.equal((await request(stack.port, link.url, { method: 'HEAD' })).status, 410);
    }
  });

  it('concurrent downloads of a one-time link: exactly one gets the file', async () => {
    const link = await mint(b, await bearer('alice'), { key: 'reports/q2.txt', maxDownloads: 1 });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => request((i % 2 === 0 ? a : b).port, link.url)));
    assert.equal(results.filter((r) => r.status === 200).length, 1);
    assert.equal(results.filter((r) => r.status === 410).length, 9);
  });

  it('a counted link allows that many GETs in total; HEAD checks without counting', async () => {
    const link = await mint(a, await bearer('alice'), { key: 'reports/q1.txt', maxDownloads: 2 });
    assert.equal((await request(a.port, link.url, { method: 'HEAD' })).status, 200);
    assert.equal((await request(a.port, link.url)).status, 200);
    assert.equal((await request(b.port, link.url, { method: 'HEAD' })).status, 200);
    assert.equal((await request(b.port, link.url)).status, 200);
    assert.equal((await request(a.port, link.url)).status, 410);
  });

  it('a link grants read/head of its key only: not other keys, stores or transforms', async () => {
    const link = await mint(a, await bearer('alice'), { key: 'reports/q1.txt' });
    const token = link.url.split('?share=')[1] as string;
    assert.equal((await request(b.port, link.url)).text(), 'report q1');
    for (const other of ['/files/docs/reports/q2.txt', '/files/docs/secret.txt', '/files/other/reports/q1.txt']) {
      const res = await request(b.port, `${other}?share=${token}`);
      assert.equal(res.status, 401, other);
      assert.doesNotMatch(res.text(), /report|SECRET/);
    }
    // The raw path is canonicalized before the link is consulted: no dot-segment detours.
    assert.equal((await request(a.port, `/files/docs/reports/q1.txt/../../secret.txt?share=${token}`)).status, 400);
    // A link never authenticates the share API (it could otherwise mint links of its own).
    assert.equal((await api(a, 'POST', `/files/_share?share=${token}`, {}, { key: 'reports/q1.txt' })).status, 401);
  });

  it('a prefix link covers the keys under it and nothing beside it', async () => {
    const link = await mint(b, await bearer('alice'), { prefix: 'reports/' });
    assert.equal(link.url, undefined);
    for (const [key, content] of [
      ['reports/q1.txt', 'report q1'],
      ['reports/q2.txt', 'report q2'],
    ] as const) {
      const res = await request(a.port, `/files/docs/${key}?share=${link.token}`);
      assert.equal(res.text(), content);
    }
    for (const key of ['reports-archive/old.txt', 'secret.txt']) {
      assert.equal((await request(a.port, `/files/docs/${key}?share=${link.token}`)).status, 401, key);
    }
  });

  it('a bound link also needs the bound subject’s own token', async () => {
    const link = await mint(a, await bearer('alice'), { key: 'reports/q1.txt', boundTo: 'bob' });
    assert.equal((await request(b.port, link.url)).status, 401);
    assert.equal((await request(b.port, link.url, { headers: await bearer('mallory') })).status, 403);
    const ok = await request(b.port, link.url, { headers: await bearer('bob') });
    assert.equal(ok.status, 200);
    assert.equal(ok.text(), 'report q1');
  });

  it('minting needs the policy action "share" on the key, a token, and an allowed expiry', async () => {
    const alice = await bearer('alice');
    assert.equal((await api(a, 'POST', '/files/_share', alice, { store: 'docs', key: 'secret.txt', expiresIn: 60 })).status, 403);
    assert.equal((await api(a, 'POST', '/files/_share', {}, { store: 'docs', key: 'reports/q1.txt', expiresIn: 60 })).status, 401);
    assert.equal((await api(a, 'POST', '/files/_share', alice, { store: 'docs', key: 'reports/q1.txt', expiresIn: 3601 })).status, 400);
    assert.equal((await api(a, 'POST', '/files/_share', alice, { store: 'docs', key: 'reports/../secret.txt', expiresIn: 60 })).status, 400);
    assert.equal((await api(a, 'POST', '/files/_share', alice, { store: 'nope', key: 'reports/q1.txt', expiresIn: 60 })).status, 404);
    // tina may share her own folder only.
    const tina = await bearer('tina');
    assert.equal((await api(b, 'POST', '/files/_share', tina, { store: 'docs', prefix: 'users/tina', expiresIn: 60 })).status, 201);
    assert.equal((await api(b, 'POST', '/files/_share', tina, { store: 'docs', prefix: 'users', expiresIn: 60 })).status, 403);
  });

  it('refuses a link with any byte changed, and never serves the file', async () => {
    const link = await mint(a, await bearer('alice'), { key: 'reports/q1.txt' });
    const token = link.token;
    const [header, payload] = token.split('.') as [string, string, string];
    const positions = [
      0,
      5,
      header.length - 1,
      header.length + 1,
      header.length + 10,
      header.length + payload.length - 1,
      token.length - 20,
      token.length - 2,
      token.length - 1,
    ];
    for (const position of positions) {
      const original = token[position] as string;
      for (const replacement of [original === 'A' ? 'B' : 'A', original === 'Q' ? 'R' : 'Q']) {
        if (replacement === original) continue;
        const tampered = token.slice(0, position) + replacement + token.slice(position + 1);
        const res = await request(b.port, `/files/docs/reports/q1.txt?share=${tampered}`);
        assert.equal(res.status, 401, `position ${position}: ${original} → ${replacement}`);
        assert.doesNotMatch(res.text(), /report/);
      }
    }
    for (const broken of [token.slice(0, -1), `${token}A`, token.split('.').slice(0, 2).join('.'), `${token.split('.').slice(0, 2).join('.')}.`]) {
      assert.equal((await request(a.port, `/files/docs/reports/q1.txt?share=${broken}`)).status, 401);
    }
    assert.equal((await request(a.port, `/files/docs/reports/q1.txt?share=${token}&share=${token}`)).status, 401);
  });

  it('rotation: links signed with either listed key work on both instances', async () => {
    const alice = await bearer('alice');
    const old = await mint(a, alice, { key: 'reports/q2.txt' });
    const fresh = await mint(b, alice, { key: 'reports/q2.txt' });
    const kid = (t: string): unknown => (JSON.parse(Buffer.from(t.split('.')[0] as string, 'base64url').toString()) as { kid: unknown }).kid;
    assert.equal(kid(old.token), 'k1');
    assert.equal(kid(fresh.token), 'k2');
    assert.equal((await request(b.port, old.url)).status, 200);
    assert.equal((await request(a.port, fresh.url)).status, 200);
  });
});

describe('revocation across instances', () => {
  it('a link revoked on one instance is refused by the other', async () => {
    const alice = await bearer('alice');
    const link = await mint(a, alice, { key: 'reports/q1.txt' });
    assert.equal((await request(b.port, link.url)).status, 200);
    assert.equal((await api(b, 'DELETE', `/files/_share/links/${link.id}`, await bearer('bob'))).status, 404);
    assert.equal((await api(a, 'DELETE', `/files/_share/links/${link.id}`, alice)).status, 204);
    for (const stack of [a, b]) {
      const res = await request(stack.port, link.url);
      assert.equal(res.status, 410);
      assert.deepEqual(res.json(), { error: 'share link revoked' });
    }
  });

  it('an admin may revoke any link by id', async () => {
    const link = await mint(b, await bearer('alice'), { key: 'reports/q2.txt' });
    const admin = await bearer('root', { roles: ['sluice-admin'] });
    assert.equal((await api(a, 'DELETE', `/files/_share/links/${link.id}`, admin)).status, 204);
    assert.equal((await request(b.port, link.url)).status, 410);
  });

  it("revoking a subject's links ends every link it minted so far, not later ones", async () => {
    const tom = await bearer('tom');
    const first = await mint(a, tom, { key: 'users/tom/notes.txt' });
    const second = await mint(b, tom, { prefix: 'users/tom' });
    assert.equal((await api(b, 'DELETE', '/files/_share/subjects/tom', await bearer('bob'))).status, 403);
    assert.equal((await api(b, 'DELETE', '/files/_share/subjects/tom', tom)).status, 204);
    assert.equal((await request(a.port, first.url)).status, 410);
    assert.equal((await request(a.port, `/files/docs/users/tom/notes.txt?share=${second.token}`)).status, 410);
    const later = await mint(a, tom, { key: 'users/tom/notes.txt' });
    assert.equal((await request(b.port, later.url)).text(), 'tom notes');
  });

  it('a revoked token jti gets 401 on both instances, before the token expires', async () => {
    const tina = await bearer('tina', { jti: 'tina-token-1' });
    for (const stack of [a, b]) assert.equal((await request(stack.port, '/files/docs/users/tina/notes.txt', { headers: tina })).status, 200);
    assert.equal((await api(a, 'DELETE', '/files/_share/tokens/someone-else', tina)).status, 403);
    assert.equal((await api(a, 'DELETE', '/files/_share/tokens/tina-token-1', tina)).status, 204);
    for (const stack of [a, b]) {
      const res = await request(stack.port, '/files/docs/users/tina/notes.txt', { headers: tina });
      assert.equal(res.status, 401);
      assert.deepEqual(res.json(), { error: 'invalid token' });
    }
    // An admin revokes someone else's token.
    const bob = await bearer('bob', { jti: 'bob-token-1' });
    assert.equal((await request(b.port, '/files/docs/users/bob/notes.txt', { headers: bob })).status, 200);
    assert.equal((await api(b, 'DELETE', '/files/_share/tokens/bob-token-1', await bearer('root', { roles: 'sluice-admin' }))).status, 204);
    assert.equal((await request(a.port, '/files/docs/users/bob/notes.txt', { headers: bob })).status, 401);
  });
});

describe('request rate limit (token bucket in Redis)', () => {
  it('answers 429 with Retry-After once the shared bucket is empty, and recovers', async () => {
    const rita = await bearer('rita');
    const url = '/files/docs/reports/q1.txt'; // 403 for rita, but every request takes a token
    // Both instances in turn until one refuses. The bucket refills 1/s meanwhile, so a slow
    // machine gets a few more through; two separate buckets would let 60 through.
    const started = performance.now();
    let allowed = 0;
    let limited: RawResponse | undefined;
    for (let i = 0; limited === undefined && i < 100; i++) {
      const res = await request(i % 2 === 0 ? a.port : b.port, url, { headers: rita });
      if (res.status === 429) limited = res;
      else {
        assert.equal(res.status, 403);
        allowed += 1;
      }
    }
    const refilled = Math.ceil((performance.now() - started) / 1000);
    assert.ok(limited !== undefined, 'the bucket ran out');
    assert.ok(allowed >= 30 && allowed <= 30 + refilled, `${allowed} allowed in ${refilled} s`);
    assert.equal(limited.headers['retry-after'], '1');
    assert.deepEqual(limited.json(), { error: 'too many requests' });
    // Others are not affected by rita's bucket.
    assert.equal((await request(b.port, '/files/docs/users/bob/notes.txt', { headers: await bearer('bob') })).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 1000 * Number(limited.headers['retry-after'])));
    assert.equal((await request(b.port, url, { headers: rita })).status, 403);
  });
});

describe('without Redis', () => {
  it('refuses to mint counted links (503) but mints others', async () => {
    const config = validateConfig({ ...baseConfig([OLD_KEY]), host: '127.0.0.1', appPort: 0 });
    const app = await startSluice(config, { logger: createLogger('silent') });
    try {
      const base = `http://${app.address}/files/_share`;
      const headers = { ...(await bearer('alice')), 'Content-Type': 'application/json' };
      const counted = await fetch(base, {
        method: 'POST',
        headers,
        body: JSON.stringify({ store: 'docs', key: 'reports/q1.txt', expiresIn: 60, maxDownloads: 1 }),
      });
      assert.equal(counted.status, 503);
      const plain = await fetch(base, { method: 'POST', headers, body: JSON.stringify({ store: 'docs', key: 'reports/q1.txt', expiresIn: 60 }) });
      assert.equal(plain.status, 201);
    } finally {
      await app.close();
    }
  });
});

describe('Redis down', () => {
  it('one-time links and revocation checks fail closed (503); rate limits fail open', async () => {
    const alice = await bearer('alice');
    const oneTime = await mint(a, alice, { key: 'reports/q1.txt', maxDownloads: 1 });
    const revocable = await bearer('tom', { jti: 'tom-token-2' });
    await redis.stop();
    for (const stack of [a, b]) {
      const res = await request(stack.port, oneTime.url);
      assert.equal(res.status, 503);
      assert.doesNotMatch(res.text(), /report/);
      assert.equal((await request(stack.port, '/files/docs/users/tom/notes.txt', { headers: revocable })).status, 503);
      // No jti to check, and the rate limiter lets requests through while Redis is away.
      const plain = await request(stack.port, '/files/docs/reports/q2.txt', { headers: alice });
      assert.equal(plain.status, 200);
      assert.equal(plain.text(), 'report q2');
    }
    assert.ok(a.logs().some((line) => line.msg === 'rate limiter unavailable: requests are not limited'));
  });
});
