// Downloads from a local-filesystem store through real nginx (X-Accel-Redirect + alias), and the
// same store in stream mode (the app moves the bytes) — both behind the same rendered config.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { keyPath, request } from '../helpers/http.js';
import { contentFor, TRICKY_KEYS } from '../helpers/fixtures.js';
import { assertConditionalRequests, assertRangesAndHead, RANGE_FIXTURE } from '../helpers/http-semantics.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { bearer, testAuthConfig } from '../helpers/tokens.js';

let stack: Stack;
let root: string;
let outside: string;
let alice: Record<string, string>;

const rules = [
  { id: 'owner-folders', key: 'users/:owner/*rest', when: [{ claim: 'sub', equalsParam: 'owner' }] },
  { id: 'deny-users', key: 'users/*rest', effect: 'deny' },
  { id: 'public-assets', key: 'public/*rest', when: [{ public: true }] },
  { id: 'staff', key: '*rest', when: [{ claim: 'groups', contains: 'staff' }] },
];

async function put(key: string, content: Buffer): Promise<void> {
  const file = path.join(root, ...key.split('/'));
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
}

before(async () => {
  const base = await mkdtemp(path.join(os.tmpdir(), 'sluice-fs-'));
  await chmod(base, 0o755);
  root = path.join(base, 'store');
  outside = path.join(base, 'outside-secret.txt');
  await writeFile(outside, 'TOP SECRET outside the store');
  for (const key of TRICKY_KEYS) await put(key, contentFor(key));
  await put('users/alice/notes.txt', Buffer.from('alice notes'));
  await put('users/bob/notes.txt', Buffer.from('bob notes'));
  await put('public/logo.txt', Buffer.from('public logo'));
  await put('page.html', Buffer.from('<script>alert(1)</script>'));
  await put('image.svg', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'));
  await put('big/range.bin', Buffer.from(RANGE_FIXTURE));
  await mkdir(path.join(root, 'a-directory'), { recursive: true });
  await symlink(outside, path.join(root, 'escape.txt'));
  stack = await startStack({
    stores: {
      docs: { type: 'fs', root },
      streamed: { type: 'fs', root, delivery: 'stream', cacheControl: 'private, max-age=60' },
    },
    auth: testAuthConfig,
    rules,
  });
  alice = await bearer('alice', { groups: ['staff'] });
});

after(async () => {
  await stack?.stop();
  if (root !== undefined) await rm(path.dirname(root), { recursive: true, force: true });
});

for (const store of ['docs', 'streamed']) {
  describe(`fs store, ${store === 'docs' ? 'nginx (X-Accel-Redirect)' : 'stream'} delivery`, () => {
    it('returns every tricky key byte-identical', async () => {
      for (const key of TRICKY_KEYS) {
        const res = await request(stack.port, `/files/${store}/${keyPath(key)}`, { headers: alice });
        assert.equal(res.status, 200, `${key}: ${res.text()}`);
        assert.deepEqual(res.body, contentFor(key), key);
      }
    });

    it('serves ranges, suffix ranges and HEAD', async () => {
      await assertRangesAndHead(stack.port, `/files/${store}/big/range.bin`, alice);
    });

    it('answers conditional requests with 304', async () => {
      await assertConditionalRequests(stack.port, `/files/${store}/big/range.bin`, alice);
    });

    it('sets type, disposition, caching and nosniff headers', async () => {
      const res = await request(stack.port, `/files/${store}/${keyPath('ü ñ 日本.pdf')}`, { headers: alice });
      assert.equal(res.headers['content-type'], 'application/pdf');
      assert.equal(res.headers['content-disposition'], `inline; filename="u n __.pdf"; filename*=UTF-8''%C3%BC%20%C3%B1%20%E6%97%A5%E6%9C%AC.pdf`);
      assert.equal(res.headers['cache-control'], store === 'docs' ? 'private, no-store' : 'private, max-age=60');
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      const download = await request(stack.port, `/files/${store}/plain.txt?download=1`, { headers: alice });
      assert.equal(download.headers['content-disposition'], 'attachment; filename="plain.txt"');
      assert.equal(download.headers['content-type'], 'text/plain; charset=utf-8', 'exactly one charset, ours');
    });

    it('sends HTML and SVG as sandboxed attachments', async () => {
      for (const name of ['page.html', 'image.svg']) {
        const res = await request(stack.port, `/files/${store}/${name}`, { headers: alice });
        assert.equal(res.status, 200);
        assert.match(res.headers['content-disposition'] as string, /^attachment;/, name);
        assert.equal(res.headers['content-security-policy'], "default-src 'none'; sandbox", name);
      }
    });

    it('answers 404 for missing files, directories and symlinks leaving the store', async () => {
      for (const key of ['missing.txt', 'a-directory', 'escape.txt']) {
        const res = await request(stack.port, `/files/${store}/${key}`, { headers: alice });
        assert.equal(res.status, 404, key);
        assert.doesNotMatch(res.text(), /TOP SECRET/);
        assert.equal(res.headers['content-disposition'], undefined, `${key}: an error is not a download`);
        assert.equal(res.headers.location, undefined, `${key}: no redirect naming an internal location`);
      }
    });
  });
}

describe('authentication and authorization through nginx', () => {
  it('401 with WWW-Authenticate when no token is given for a private file', async () => {
    const res = await request(stack.port, '/files/docs/plain.txt');
    assert.equal(res.status, 401);
    assert.match(res.headers['www-authenticate'] as string, /^Bearer realm="sluice"/);
    assert.deepEqual(res.json(), { error: 'authentication required' });
  });

  it('401 for an invalid token, even on a public file', async () => {
    const res = await request(stack.port, '/files/docs/public/logo.txt', { headers: { Authorization: 'Bearer not.a.jwt' } });
    assert.equal(res.status, 401);
    assert.match(res.headers['www-authenticate'] as string, /error="invalid_token"/);
  });

  it('public rule serves anonymous callers', async () => {
    const res = await request(stack.port, '/files/docs/public/logo.txt');
    assert.equal(res.status, 200);
    assert.equal(res.text(), 'public logo');
  });

  it('binds the owner path parameter to the token subject', async () => {
    const bob = await bearer('bob');
    assert.equal((await request(stack.port, '/files/docs/users/bob/notes.txt', { headers: bob })).text(), 'bob notes');
    const denied = await request(stack.port, '/files/docs/users/alice/notes.txt', { headers: bob });
    assert.equal(denied.status, 403);
    assert.deepEqual(denied.json(), { error: 'forbidden' });
    // The explicit deny for other users' folders wins over alice's staff rule further down.
    assert.equal((await request(stack.port, '/files/docs/users/bob/notes.txt', { headers: alice })).status, 403);
  });

  it('accepts the token from the configured cookie', async () => {
    const token = (alice.Authorization as string).slice('Bearer '.length);
    const res = await request(stack.port, '/files/docs/plain.txt', { headers: { Cookie: `other=1; sluice_session=${token}` } });
    assert.equal(res.status, 200);
  });

  it('writes one audit line per decision, without the token', async () => {
    await request(stack.port, '/files/docs/users/alice/notes.txt', { headers: alice });
    const audits = stack.logs().filter((l) => l.audit !== undefined);
    const line = audits.at(-1)?.audit as Record<string, unknown>;
    assert.equal(line.subject, 'alice');
    assert.equal(line.store, 'docs');
    assert.equal(line.key, 'users/alice/notes.txt');
    assert.equal(line.decision, 'allow');
    assert.equal(line.rule, 'owner-folders');
    assert.equal(typeof line.requestId, 'string');
    const token = (alice.Authorization as string).slice('Bearer '.length);
    assert.ok(!JSON.stringify(stack.logs()).includes(token), 'no token in any log line');
  });
});

describe('bad requests through nginx', () => {
  it('400 for ambiguous or hostile key spellings', async () => {
    const hostile = [
      '/files/docs/%2e%2e/outside-secret.txt',
      '/files/docs/a%2f..%2f..%2foutside-secret.txt',
      '/files/docs/..%5coutside-secret.txt',
      '/files/docs/%c0%ae%c0%ae/outside-secret.txt',
      '/files/docs/plain.txt%00.png',
      '/files/docs/a//plain.txt',
      '/files/docs/bad%zzescape',
      '/files/docs/%252e%252e/%252e%252e/outside-secret.txt',
    ];
    for (const raw of hostile) {
      const res = await request(stack.port, raw, { headers: alice });
      assert.ok([400, 404].includes(res.status), `${raw}: ${res.status}`);
      assert.doesNotMatch(res.text(), /TOP SECRET|at .*\.ts:\d+/, raw);
    }
    const dot = await request(stack.port, '/files/docs/%2e%2e/outside-secret.txt', { headers: alice });
    assert.equal(dot.status, 400);
    assert.deepEqual(dot.json(), { error: 'dot segment in key' });
  });

  it('plain ".." never escapes: nginx normalizes it before any location matches', async () => {
    for (const raw of ['/files/docs/../../outside-secret.txt', '/files/docs/users/../escape.txt', '/files../etc/passwd']) {
      const res = await request(stack.port, raw, { headers: alice });
      assert.ok(res.status >= 400, `${raw}: ${res.status}`);
      assert.doesNotMatch(res.text(), /TOP SECRET|root:/, raw);
    }
  });

  it('internal locations are unreachable from outside', async () => {
    const res = await request(stack.port, `/_sluice/fs/docs/plain.txt`);
    assert.equal(res.status, 404);
  });

  it('404 for an unknown store, 405 for other methods', async () => {
    assert.equal((await request(stack.port, '/files/nope/plain.txt', { headers: alice })).status, 404);
    const post = await request(stack.port, '/files/docs/plain.txt', { method: 'DELETE', headers: alice });
    assert.equal(post.status, 405);
  });

  it('no nginx temp files were written', async () => {
    const tmp = path.join(stack.dir, 'nginx', 'run', 'tmp', 'proxy');
    const entries = await readdir(tmp).catch(() => []);
    assert.deepEqual(entries, []);
  });
});

describe('operations endpoints on the app port', () => {
  it('healthz, readyz and Prometheus metrics', async () => {
    const port = stack.app.port;
    assert.equal((await request(port, '/healthz')).status, 200);
    assert.deepEqual((await request(port, '/readyz')).json(), { status: 'ready' });
    const metrics = (await request(port, '/metrics')).text();
    assert.match(metrics, /sluice_access_decisions_total\{store="docs",decision="allow"\} \d+/);
    assert.match(metrics, /sluice_http_request_duration_seconds_bucket/);
  });

  it('a 1 MiB file keeps its checksum through nginx', async () => {
    const data = Buffer.alloc(1 << 20, 7);
    await put('mib.bin', data);
    const res = await request(stack.port, '/files/docs/mib.bin', { headers: alice });
    assert.equal(createHash('sha256').update(res.body).digest('hex'), createHash('sha256').update(data).digest('hex'));
  });
});
