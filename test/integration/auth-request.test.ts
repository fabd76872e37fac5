// nginx serves a directory itself and asks Sluice first (auth_request): the rendered internal
// location, the app's endpoint, and the raw-vs-normalized URI trap, through real nginx.
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { renderProtectedLocation } from '../../src/nginx/render-auth-request.js';
import { request } from '../helpers/http.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { bearer, testAuthConfig } from '../helpers/tokens.js';

const LINK_SECRET = 'auth-request-link-secret-0123456789abcdef';
const SECRET_CONTENT = 'SECRET b';

let stack: Stack;
let root: string;
let alice: Record<string, string>;
let staff: Record<string, string>;

async function put(key: string, content: string): Promise<void> {
  const file = path.join(root, ...key.split('/'));
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
}

before(async () => {
  const base = await mkdtemp(path.join(os.tmpdir(), 'sluice-authreq-'));
  await chmod(base, 0o755);
  root = path.join(base, 'store');
  await put('open/a.txt', 'open a');
  await put('secret/b.txt', SECRET_CONTENT);
  await put('public/p.txt', 'public p');
  stack = await startStack(
    {
      stores: { docs: { type: 'fs', root } },
      auth: testAuthConfig,
      rules: [
        { id: 'public', key: 'public/*rest', when: [{ public: true }] },
        { id: 'open', key: 'open/*rest', actions: ['read', 'head', 'share'], when: [{ authenticated: true }] },
        { id: 'staff', key: '*rest', when: [{ claim: 'groups', contains: 'staff' }] },
      ],
      sharing: { keys: [{ kid: 'k1', secret: LINK_SECRET }], authRequest: { locations: { '/protected': 'docs' } } },
    },
    // mime.types as operators run nginx: the app's type must win over the extension's.
    { extraServerConfig: renderProtectedLocation({ path: '/protected', root, internalPrefix: '/_sluice' }), mimeTypes: true },
  );
  alice = await bearer('alice');
  staff = await bearer('sam', { groups: ['staff'] });
});

after(async () => {
  await stack?.stop();
  if (root !== undefined) await rm(path.dirname(root), { recursive: true, force: true });
});

describe('auth_request protecting a location nginx serves itself', () => {
  it('serves an allowed file (nginx moves the bytes, Sluice only answered 204)', async () => {
    const res = await request(stack.port, '/protected/open/a.txt', { headers: alice });
    assert.equal(res.status, 200);
    assert.equal(res.text(), 'open a');
    assert.equal(res.headers['cache-control'], 'private, no-store');
    const audit = stack
      .logs()
      .map((l) => l.audit as Record<string, unknown> | undefined)
      .filter((a) => a?.key === 'open/a.txt');
    assert.equal(audit.at(-1)?.decision, 'allow');
    assert.equal(audit.at(-1)?.action, 'read');
  });

  it('asks for authentication without a token: 401 with WWW-Authenticate', async () => {
    const res = await request(stack.port, '/protected/open/a.txt');
    assert.equal(res.status, 401);
    assert.match(String(res.headers['www-authenticate']), /^Bearer/);
    assert.doesNotMatch(res.text(), /open a/);
  });

  it('refuses an authenticated caller no rule allows: 403', async () => {
    const res = await request(stack.port, '/protected/secret/b.txt', { headers: alice });
    assert.equal(res.status, 403);
    assert.doesNotMatch(res.text(), /SECRET/);
    assert.equal((await request(stack.port, '/protected/secret/b.txt', { headers: staff })).text(), SECRET_CONTENT);
  });

  it('lets anonymous callers through where a public rule allows', async () => {
    const res = await request(stack.port, '/protected/public/p.txt');
    assert.equal(res.status, 200);
    assert.equal(res.text(), 'public p');
  });

  it('authorizes HEAD as head, with the original method', async () => {
    const allowed = await request(stack.port, '/protected/open/a.txt', { method: 'HEAD', headers: alice });
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers['content-length'], '6');
    assert.equal((await request(stack.port, '/protected/secret/b.txt', { method: 'HEAD', headers: alice })).status, 403);
    const audit = stack
      .logs()
      .map((l) => l.audit as Record<string, unknown> | undefined)
      .filter((a) => a?.action === 'head');
    assert.ok(audit.some((a) => a?.key === 'open/a.txt' && a.decision === 'allow'));
  });

  it('never authorizes one spelling while nginx serves another (raw vs normalized URI)', async () => {
    // nginx normalizes these (all but the backslash) to /protected/secret/b.txt; a check on the
    // raw path that matched "open/*rest" would have let alice read the secret.
    const tricks = [
      '/protected/open/../secret/b.txt',
      '/protected/open/%2e%2e/secret/b.txt',
      '/protected/open/%2E%2E/secret/b.txt',
      '/protected/open/.%2e/secret/b.txt',
      '/protected/open%2f..%2fsecret/b.txt',
      '/protected/open/..%2fsecret/b.txt',
      '/protected/open//../secret/b.txt',
      '/protected/open/./../secret/b.txt',
      '/protected/open/..\\secret/b.txt',
    ];
    for (const trick of tricks) {
      const res = await request(stack.port, trick, { headers: alice });
      assert.equal(res.status, 403, trick);
      assert.doesNotMatch(res.text(), /SECRET/, trick);
    }
    // Literal names for both sides (decoded once, ";" kept): allowed as open/…, and nginx looks
    // for exactly that file, which does not exist.
    for (const literal of ['/protected/open/%252e%252e/secret/b.txt', '/protected/open/..;/secret/b.txt']) {
      const res = await request(stack.port, literal, { headers: alice });
      assert.equal(res.status, 404, literal);
      assert.doesNotMatch(res.text(), /SECRET/, literal);
    }
  });

  it('refuses a dot segment even when the normalized path would be allowed', async () => {
    const res = await request(stack.port, '/protected/secret/../open/a.txt', { headers: alice });
    assert.equal(res.status, 403);
  });

  it('keeps the auth endpoint internal', async () => {
    const res = await request(stack.port, '/_sluice/auth', { headers: { ...staff, 'X-Original-URI': '/protected/secret/b.txt', 'X-Original-Method': 'GET' } });
    assert.equal(res.status, 404);
  });

  it('accepts a share link in the original query, for its key only', async () => {
    const minted = await fetch(`http://127.0.0.1:${stack.port}/files/_share`, {
      method: 'POST',
      headers: { ...alice, 'Content-Type': 'application/json' },
      body: JSON.stringify({ store: 'docs', key: 'open/a.txt', expiresIn: 60 }),
    });
    assert.equal(minted.status, 201);
    const { token } = (await minted.json()) as { token: string };
    const ok = await request(stack.port, `/protected/open/a.txt?share=${token}`);
    assert.equal(ok.status, 200);
    assert.equal(ok.text(), 'open a');
    const other = await request(stack.port, `/protected/secret/b.txt?share=${token}`);
    assert.equal(other.status, 401);
    assert.doesNotMatch(other.text(), /SECRET/);
  });
});
