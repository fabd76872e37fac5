// The attack corpus for compositions: features that each held alone but not together, tried
// through real nginx (the rendered config plus the documented /protected auth_request snippet, docs/sharing.md),
// the real worker and real Redis. Each case is a finding of an outside review, kept as a
// regression test: share links × deny rules, auth_request × a raw "#", deny rules × every action,
// revocation × absurd token expiries, share links × revocation of their creator's token.
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import sharp from 'sharp';
import { renderProtectedLocation } from '../../src/nginx/render-auth-request.js';
import { request, type RawResponse } from '../helpers/http.js';
import { startRedis, type RedisTestServer } from '../helpers/redis.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { bearer, TEST_SECRET, testAuthConfig } from '../helpers/tokens.js';

const LINK_KEY = { kid: 'c1', secret: 'compositions-link-secret-0123456789abcdef' };
const WORKER_SECRET = 'compositions-worker-secret-0123456789abcdef';
const LOCKED = 'LOCKED-CONTENT';
const BLOCKED = 'BLOCKED-CONTENT';
const PRIVATE = 'PRIVATE-CONTENT';

let redis: RedisTestServer;
let stack: Stack;
let base: string;
let root: string;
let alice: Record<string, string>;

async function put(key: string, content: string | Buffer): Promise<void> {
  const file = path.join(root, ...key.split('/'));
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
}

async function api(
  method: string,
  rawPath: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${stack.port}${rawPath}`, {
    method,
    headers: body === undefined ? headers : { ...headers, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

async function mintLink(headers: Record<string, string>, scope: { key?: string; prefix?: string }): Promise<{ status: number; token?: string }> {
  const res = await api('POST', '/files/_share', headers, { store: 'data', expiresIn: 600, ...scope });
  return { status: res.status, ...(typeof res.json.token === 'string' ? { token: res.json.token } : {}) };
}

/** Refused, and not a byte of the guarded content in the answer. */
function assertRefused(res: RawResponse, label: string): void {
  assert.ok(res.status >= 400 && res.status < 500, `${label}: ${res.status}`);
  assert.doesNotMatch(res.text(), new RegExp(`${LOCKED}|${BLOCKED}|${PRIVATE}`), label);
}

/** A PUT with a small body, the raw path sent byte for byte. */
function putRaw(rawPath: string, body: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: stack.port,
        method: 'PUT',
        path: rawPath,
        agent: false,
        headers: { ...headers, 'Content-Type': 'text/plain', 'Content-Length': String(Buffer.byteLength(body)) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

before(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'sluice-compositions-'));
  await chmod(base, 0o755);
  root = path.join(base, 'store');
  await put('alice/open.txt', 'open to alice');
  await put('alice/locked/l.txt', LOCKED);
  await put('alice/blocked.txt', BLOCKED);
  await put(
    'alice/private/priv.jpg',
    await sharp({ create: { width: 16, height: 16, channels: 3, background: '#c00' } })
      .jpeg()
      .toBuffer(),
  );
  await put('alice/private/notes.txt', PRIVATE);
  await put('alice/hash#name.txt', 'a name with a hash');
  redis = await startRedis();
  stack = await startStack(
    {
      stores: { data: { type: 'fs', root } },
      auth: testAuthConfig,
      redisUrl: redis.url,
      rules: [
        // Deny rules without `actions`: they must cover every action, not only read and head.
        { id: 'no-locked', store: 'data', key: 'alice/locked/*rest', effect: 'deny' },
        { id: 'no-blocked', store: 'data', key: 'alice/blocked.txt', effect: 'deny' },
        { id: 'no-private', store: 'data', key: 'alice/private/*rest', effect: 'deny' },
        {
          id: 'alice-own',
          store: 'data',
          key: 'alice/*rest',
          actions: ['read', 'head', 'share', 'transform', 'write'],
          when: [{ claim: 'sub', equals: 'alice' }],
        },
      ],
      sharing: { keys: [LINK_KEY], maxExpiresInSeconds: 3600, authRequest: { locations: { '/protected': 'data' } } },
      transform: { enabled: true, keys: ['6b6579'], salts: ['73616c74'], localStore: 'data' },
      worker: { secret: WORKER_SECRET },
      uploads: { enabled: true, maxBytes: 1024 * 1024, allowedContentTypes: ['text/plain'] },
    },
    { worker: true, extraServerConfig: renderProtectedLocation({ path: '/protected', root, internalPrefix: '/_sluice' }) },
  );
  alice = await bearer('alice', { jti: 'alice-session-1' });
});

after(async () => {
  await stack?.stop();
  await redis?.stop();
  if (base !== undefined) await rm(base, { recursive: true, force: true });
});

describe('share links never outrank deny rules', () => {
  it('a prefix link serves what its creator may read, and nothing a deny rule below the prefix guards', async () => {
    const link = await mintLink(alice, { prefix: 'alice' });
    assert.equal(link.status, 201);
    const open = await request(stack.port, `/files/data/alice/open.txt?share=${link.token}`);
    assert.equal(open.status, 200);
    assert.equal(open.text(), 'open to alice');
    assert.equal((await request(stack.port, `/protected/alice/open.txt?share=${link.token}`)).text(), 'open to alice');
    for (const key of ['alice/locked/l.txt', 'alice/blocked.txt', 'alice/private/notes.txt']) {
      assertRefused(await request(stack.port, `/files/data/${key}?share=${link.token}`), `/files ${key}`);
      assertRefused(await request(stack.port, `/files/data/${key}?share=${link.token}`, { method: 'HEAD' }), `HEAD /files ${key}`);
      assertRefused(await request(stack.port, `/protected/${key}?share=${link.token}`), `/protected ${key}`);
    }
    const audit = stack
      .logs()
      .map((l) => l.audit as Record<string, unknown> | undefined)
      .filter((a) => a?.key === 'alice/locked/l.txt');
    assert.ok(audit.length > 0);
    assert.ok(
      audit.every((a) => a?.decision === 'deny' && /no-locked/.test(String(a.reason))),
      JSON.stringify(audit),
    );
  });

  it('a key link for a denied key cannot be minted: the deny covers "share" too', async () => {
    assert.equal((await mintLink(alice, { key: 'alice/blocked.txt' })).status, 403);
    assert.equal((await mintLink(alice, { key: 'alice/locked/l.txt' })).status, 403);
    assert.equal((await mintLink(alice, { key: 'alice/open.txt' })).status, 201);
  });

  it('a token without a subject cannot mint: its links could be neither re-checked nor revoked per subject', async () => {
    const subless = await new SignJWT({ jti: 'no-sub' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(TEST_SECRET));
    assert.equal((await mintLink({ Authorization: `Bearer ${subless}` }, { key: 'alice/open.txt' })).status, 403);
  });

  it('revoking the creator’s token (jti) kills the links minted with it', async () => {
    const session = await bearer('alice', { jti: 'alice-session-2' });
    const link = await mintLink(session, { key: 'alice/open.txt' });
    assert.equal((await request(stack.port, `/files/data/alice/open.txt?share=${link.token}`)).status, 200);
    assert.equal((await api('DELETE', '/files/_share/tokens/alice-session-2', session)).status, 204);
    const after = await request(stack.port, `/files/data/alice/open.txt?share=${link.token}`);
    assert.equal(after.status, 410);
    assert.deepEqual(after.json(), { error: 'share link revoked' });
    // Her other sessions and their links are untouched.
    const other = await mintLink(alice, { key: 'alice/open.txt' });
    assert.equal((await request(stack.port, `/files/data/alice/open.txt?share=${other.token}`)).status, 200);
  });
});

describe('a raw "#" never splits the decision from the file', () => {
  const targets = ['alice/blocked.txt#', 'alice/blocked.txt#x', 'alice/blocked.txt#?x', 'alice/locked/l.txt#/../open.txt'];

  it('is refused on the download route (400) and on auth_request locations (403), never served', async () => {
    for (const target of targets) {
      const files = await request(stack.port, `/files/data/${target}`, { headers: alice });
      assert.equal(files.status, 400, target);
      assertRefused(files, `/files ${target}`);
      const guarded = await request(stack.port, `/protected/${target}`, { headers: alice });
      assert.equal(guarded.status, 403, target);
      assertRefused(guarded, `/protected ${target}`);
    }
  });

  it('is refused on the image and upload routes too', async () => {
    assert.equal((await request(stack.port, '/images/data/alice/private/priv.jpg#?skp=jpg', { headers: alice })).status, 400);
    // fs uploads are authorized by an auth_request too, which knows only 401 and 403.
    assert.equal(await putRaw('/files/_uploads/fs/data/alice/new#.txt', 'x', alice), 403);
    await assert.rejects(stat(path.join(root, 'alice', 'new#.txt')));
  });

  it('"%23" stays a name character: the file whose name holds "#" is served on both paths', async () => {
    const files = await request(stack.port, '/files/data/alice/hash%23name.txt', { headers: alice });
    assert.equal(files.status, 200);
    assert.equal(files.text(), 'a name with a hash');
    assert.equal((await request(stack.port, '/protected/alice/hash%23name.txt', { headers: alice })).text(), 'a name with a hash');
  });
});

describe('deny rules without actions cover every action', () => {
  it('refuses the original bytes through the image route (transform)', async () => {
    const res = await request(stack.port, '/images/data/alice/private/priv.jpg?skp=jpg', { headers: alice });
    assert.equal(res.status, 403);
    assert.notEqual(res.headers['content-type'], 'image/jpeg');
  });

  it('refuses an upload below the denied prefix (write), and creates nothing', async () => {
    assert.equal(await putRaw('/files/_uploads/fs/data/alice/private/new.txt', 'planted', alice), 403);
    await assert.rejects(stat(path.join(root, 'alice', 'private', 'new.txt')));
    // The same upload outside the deny succeeds: the refusal is the rule's, not a broken route.
    assert.equal(await putRaw('/files/_uploads/fs/data/alice/new.txt', 'fine', alice), 201);
  });
});

describe('revocation of absurd tokens', () => {
  it('revokes a token with exp 1e300 (204, not 503), and it is refused afterwards', async () => {
    const token = await new SignJWT({ jti: 'forever-1' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject('alice')
      .setExpirationTime(1e300)
      .sign(new TextEncoder().encode(TEST_SECRET));
    const headers = { Authorization: `Bearer ${token}` };
    assert.equal((await request(stack.port, '/files/data/alice/open.txt', { headers })).status, 200);
    const revoked = await api('DELETE', '/files/_share/tokens/forever-1', headers);
    assert.equal(revoked.status, 204, JSON.stringify(revoked.json));
    assert.equal((await request(stack.port, '/files/data/alice/open.txt', { headers })).status, 401);
  });
});
