// Token and signature attacks through real nginx: JWT forgeries, share links and transform URLs
// tampered at every byte, transform-cache poisoning, and response splitting via file names.
// Expected: 400/401/403/404, never the file, never a 500.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exportJWK, SignJWT, type JWTPayload } from 'jose';
import pLimit from 'p-limit';
import sharp from 'sharp';
import { request, type RawResponse } from '../helpers/http.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { TEST_SECRET } from '../helpers/tokens.js';
import { signImgproxyPath } from '../helpers/worker.js';

const ISSUER = 'https://idp.example.test';
const AUDIENCE = 'sluice';
const BODY = 'alice private report 7d1e';
const KEY = Buffer.from('attack-test-key').toString('hex');
const SALT = Buffer.from('attack-test-salt').toString('hex');
const LINK_KEY = { kid: 'l1', secret: 'attack-share-link-secret-0123456789abcdef' };
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const REFUSED = new Set([400, 401, 403, 404]);

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaPublicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });

let base: string;
let stack: Stack;

const secretBytes = new TextEncoder().encode(TEST_SECRET);
const now = (): number => Math.floor(Date.now() / 1000);
const claims = (extra: JWTPayload = {}): JWTPayload => ({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, iat: now(), exp: now() + 300, ...extra });
const hs = (payload: JWTPayload, header: Record<string, unknown> = {}, key: Uint8Array = secretBytes): Promise<string> =>
  new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...header }).sign(key);
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const auth = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });
const get = (rawPath: string, headers: Record<string, string> = {}): Promise<RawResponse> => request(stack.port, rawPath, { headers });

/** Replaces the character at `i` with one that changes significant bits (base64url top bit flipped). */
function tamper(text: string, i: number): string {
  const index = B64URL.indexOf(text[i] as string);
  const replacement = index === -1 ? 'A' : (B64URL[index ^ 32] as string);
  return text.slice(0, i) + replacement + text.slice(i + 1);
}

async function put(key: string, content: Buffer | string): Promise<void> {
  const file = path.join(base, 'store', ...key.split('/'));
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
}

before(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'sluice-attack-tokens-'));
  await chmod(base, 0o755);
  await put('alice/report.txt', BODY);
  await put('alice/quote"d;name.txt', BODY);
  await put(
    'alice/photo.png',
    await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 10, g: 200, b: 30 } } })
      .png()
      .toBuffer(),
  );
  await put('bob/notes.txt', 'bob only');
  stack = await startStack(
    {
      stores: { docs: { type: 'fs', root: path.join(base, 'store') } },
      auth: {
        keys: [
          { algorithms: ['HS256'], secret: TEST_SECRET },
          { kid: 'rsa', algorithms: ['RS256'], publicKey: rsaPublicPem },
        ],
        issuer: ISSUER,
        audience: AUDIENCE,
      },
      rules: [{ id: 'own', key: ':owner/*rest', actions: ['read', 'head', 'share', 'transform'], when: [{ claim: 'sub', equalsParam: 'owner' }] }],
      sharing: { keys: [LINK_KEY] },
      transform: { enabled: true, keys: [KEY], salts: [SALT], localStore: 'docs' },
      worker: { secret: 'attack-worker-secret-0123456789abcdef', concurrency: 2 },
    },
    { worker: true },
  );
});

after(async () => {
  await stack?.stop();
  if (base !== undefined) await rm(base, { recursive: true, force: true });
});

function assertRefused(res: RawResponse, what: string): void {
  assert.ok(REFUSED.has(res.status), `${what}: status ${res.status}`);
  assert.ok(!res.body.includes(BODY), `${what}: leaked the file`);
}

describe('JWT attacks', () => {
  const url = '/files/docs/alice/report.txt';

  it('a well-formed token is accepted (baseline), with HS256 and with the pinned RSA key', async () => {
    assert.equal((await get(url, auth(await hs(claims())))).text(), BODY);
    const rs = await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256', kid: 'rsa' }).sign(rsa.privateKey);
    assert.equal((await get(url, auth(rs))).status, 200);
  });

  it('refuses every forgery with 401 and a short JSON reason', async () => {
    const attackerJwk = await exportJWK(attacker.publicKey);
    const forgeries: Record<string, string> = {
      'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`,
      'alg None': `${b64({ alg: 'None' })}.${b64(claims())}.`,
      'HS256 signed with the RSA public key (kid rsa)': await hs(claims(), { kid: 'rsa' }, new TextEncoder().encode(rsaPublicPem)),
      'HS256 signed with the RSA public key (no kid)': await hs(claims(), {}, new TextEncoder().encode(rsaPublicPem)),
      'missing exp': await hs({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, iat: now() }),
      expired: await hs(claims({ exp: now() - 3600, iat: now() - 7200 })),
      'future nbf': await hs(claims({ nbf: now() + 3600 })),
      'wrong iss': await hs(claims({ iss: 'https://evil.test' })),
      'wrong aud': await hs(claims({ aud: 'someone-else' })),
      'no iss/aud': await hs({ sub: 'alice', exp: now() + 300 }),
      'unknown kid': await hs(claims(), { kid: 'nope' }),
      'jku injection': await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256', jku: 'http://127.0.0.1:1/jwks.json' }).sign(attacker.privateKey),
      'x5u injection': await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256', x5u: 'http://127.0.0.1:1/cert.pem' }).sign(attacker.privateKey),
      'jwk injection': await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256', jwk: attackerJwk }).sign(attacker.privateKey),
      'jwk injection with the real kid': await new SignJWT(claims())
        .setProtectedHeader({ alg: 'RS256', kid: 'rsa', jwk: attackerJwk })
        .sign(attacker.privateKey),
      'jku on a validly signed token': await hs(claims(), { jku: 'http://127.0.0.1:1/jwks.json' }),
      'truncated signature': (await hs(claims())).slice(0, -5),
      'two dots only': '..',
      garbage: 'not-a-token',
      'payload swapped (bob → alice)': await (async () => {
        const bob = (await hs(claims({ sub: 'bob' }))).split('.');
        return [bob[0], b64(claims()), bob[2]].join('.');
      })(),
    };
    for (const [name, token] of Object.entries(forgeries)) {
      const res = await get(url, auth(token));
      assert.equal(res.status, 401, name);
      assert.ok(!res.body.includes(BODY), name);
      assert.match(res.text(), /^\{"error":"[a-z ]+"\}\n?$/, name);
      assert.match(String(res.headers['www-authenticate']), /^Bearer/, name);
    }
  });

  it('an oversized token is refused unparsed: by nginx (400) or, reaching the app, 401', async () => {
    const huge = await hs(claims({ pad: 'x'.repeat(9000) }));
    const viaNginx = await get(url, auth(huge));
    assert.equal(viaNginx.status, 400);
    assert.ok(!viaNginx.body.includes(BODY));
    const [host, port] = stack.app.address.split(':') as [string, string];
    const direct = await request(Number(port), url, { headers: { ...auth(huge), Host: host } });
    assert.equal(direct.status, 401);
    assert.deepEqual(direct.json(), { error: 'invalid token' });
  });

  it('request size limits: nginx refuses an oversized request line (414) or header (400)', async () => {
    assert.equal((await get(`/files/docs/alice/${'a'.repeat(20_000)}.txt`, auth(await hs(claims())))).status, 414);
    assert.equal((await get(url, { ...auth(await hs(claims())), Cookie: `c=${'x'.repeat(10_000)}` })).status, 400);
  });

  it('never takes a token from the query string', async () => {
    const token = await hs(claims());
    for (const q of ['access_token', 'token', 'jwt', 'authorization']) assert.equal((await get(`${url}?${q}=${token}`)).status, 401, q);
  });

  it('a valid token with a flipped character at EVERY position is refused', async (t) => {
    const token = await hs(claims());
    const limit = pLimit(8);
    const results = await Promise.all([...token].map((_, i) => limit(async () => ({ i, res: await get(url, auth(tamper(token, i))) }))));
    for (const { i, res } of results) assertRefused(res, `jwt byte ${i}`);
    assert.ok(results.length > 150);
    t.diagnostic(`${results.length} tampered bearer tokens`);
  });
});

describe('share links tampered at every byte', () => {
  it('the intact link works; every single-character change, and the link on another key, is refused', async (t) => {
    const minted = await fetch(`http://127.0.0.1:${stack.port}/files/_share`, {
      method: 'POST',
      headers: { ...auth(await hs(claims())), 'Content-Type': 'application/json' },
      body: JSON.stringify({ store: 'docs', key: 'alice/report.txt', expiresIn: 600 }),
    });
    assert.equal(minted.status, 201);
    const { token, url } = (await minted.json()) as { token: string; url: string };
    assert.equal((await get(url)).text(), BODY);
    const limit = pLimit(8);
    const results = await Promise.all(
      [...token].map((_, i) => limit(async () => ({ i, res: await get(`/files/docs/alice/report.txt?share=${tamper(token, i)}`) }))),
    );
    for (const { i, res } of results) assertRefused(res, `share byte ${i}`);
    t.diagnostic(`${results.length} tampered share links`);
    for (const other of ['/files/docs/bob/notes.txt', '/files/docs/alice/photo.png', '/files/docs/alice/report.txt/..']) {
      const res = await get(`${other}?share=${token}`);
      assert.ok(REFUSED.has(res.status), other);
      assert.ok(!res.body.includes('bob only'), other);
    }
    // A share link is never a bearer token, and a bearer token never a share link.
    assert.equal((await get('/files/docs/alice/report.txt', auth(token))).status, 401);
    assertRefused(await get(`/files/docs/alice/report.txt?share=${await hs(claims())}`), 'bearer as link');
  });
});

describe('transform URLs tampered at every byte', () => {
  it('the signed URL renders for its owner; every single-character change is refused before the worker', async (t) => {
    const signedPath = signImgproxyPath('/rs:fit:32:32/plain/local:///alice/photo.png@png', KEY, SALT);
    const alice = auth(await hs(claims()));
    const ok = await get(`/img${signedPath}`, alice);
    assert.equal(ok.status, 200, ok.text());
    const rendered = ok.body;
    const before = (await stack.worker?.renderRequests()) as number;
    const limit = pLimit(8);
    // Position 0 is the "/" that separates the prefix from the signature.
    const results = await Promise.all([...signedPath].map((_, i) => limit(async () => ({ i, res: await get(`/img${tamper(signedPath, i)}`, alice) }))));
    for (const { i, res } of results) {
      assert.ok(REFUSED.has(res.status) || res.status === 405, `img byte ${i}: ${res.status}`);
      assert.ok(!res.body.equals(rendered), `img byte ${i}: served the image`);
    }
    assert.equal(await stack.worker?.renderRequests(), before, 'no tampered URL reached the worker');
    t.diagnostic(`${results.length} tampered transform URLs`);
  });
});

describe('transform cache poisoning', () => {
  // imgproxy URLs are capabilities (the signature is the authorization); token-authorized variants
  // come from the native route, and a cached one must never reach another caller.
  it('a cached variant is authorized again for every caller, whatever the Accept or injected headers', async () => {
    const signedPath = '/images/docs/alice/photo.png?rs=fill:20:20';
    const alice = auth(await hs(claims()));
    for (const accept of ['image/webp', 'image/avif,image/webp', '*/*']) {
      assert.equal((await get(signedPath, { ...alice, Accept: accept })).status, 200, accept);
    }
    const bob = auth(await hs(claims({ sub: 'bob' })));
    const injected = {
      'X-Accel-Redirect': '/_sluice/img',
      'X-Sluice-Ticket': 'forged',
      'X-Forwarded-For': '127.0.0.1',
      'X-Original-URI': signedPath,
      'Cache-Control': 'only-if-cached',
      Cookie: 'sluice_session=x',
    };
    for (const accept of ['image/webp', 'image/avif,image/webp', '*/*', '']) {
      for (const headers of [{}, bob, { ...bob, ...injected }, injected]) {
        const res = await get(signedPath, { ...headers, ...(accept === '' ? {} : { Accept: accept }) });
        assert.ok(res.status === 401 || res.status === 403, `${accept} ${JSON.stringify(headers)}: ${res.status}`);
        assert.match(String(res.headers['content-type']), /^application\/json/);
      }
    }
    // The internal location itself is unreachable from outside.
    assertRefused(await get('/_sluice/img', alice), 'internal img');
  });
});

describe('response splitting via file names', () => {
  it('quotes and semicolons in a key are escaped in Content-Disposition; CR/LF never become headers', async () => {
    const alice = auth(await hs(claims()));
    const res = await get('/files/docs/alice/quote%22d%3Bname.txt?download=1', alice);
    assert.equal(res.status, 200);
    const disposition = String(res.headers['content-disposition']);
    // Quote and semicolon are replaced: the parameter cannot be closed or extended.
    assert.equal(disposition, 'attachment; filename="quote_d_name.txt"');
    for (const raw of ['alice/a%0d%0aSet-Cookie:%20x=1.txt', 'alice/a%0aX-Injected:%201', 'alice/a%0d.txt', 'alice/%E5%98%8A%E5%98%8Dx.txt']) {
      const r = await get(`/files/docs/${raw}`, alice);
      assertRefused(r, raw);
      assert.equal(r.headers['set-cookie'], undefined);
      assert.equal(r.headers['x-injected'], undefined);
    }
  });

  it('a transform "fn:" filename with CR/LF or a slash is refused; quotes and ";" are replaced', async () => {
    const alice = auth(await hs(claims()));
    for (const name of ['x\r\nSet-Cookie: a=b', 'x\nX-Injected: 1', 'a/b', 'a\\b']) {
      const encoded = Buffer.from(name).toString('base64url');
      const res = await get(`/img${signImgproxyPath(`/fn:${encoded}:1/plain/local:///alice/photo.png`, KEY, SALT)}`, alice);
      assert.ok(REFUSED.has(res.status), `${JSON.stringify(name)}: ${res.status}`);
      assert.equal(res.headers['set-cookie'], undefined);
      assert.equal(res.headers['x-injected'], undefined);
    }
    const quoted = Buffer.from('my "best"; shot').toString('base64url');
    const res = await get(`/img${signImgproxyPath(`/fn:${quoted}:1/plain/local:///alice/photo.png@png`, KEY, SALT)}`, alice);
    assert.equal(res.status, 200, res.text());
    assert.equal(res.headers['content-disposition'], 'inline; filename="my _best__ shot.png"');
  });

  it('no request in this file made the app answer 5xx', () => {
    assert.deepEqual(
      stack.logs().filter((l) => typeof l.status === 'number' && l.status >= 500),
      [],
    );
  });
});
