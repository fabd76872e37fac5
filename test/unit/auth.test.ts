import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  base64url,
  exportJWK,
  exportPKCS8,
  exportSPKI,
  generateKeyPair,
  importPKCS8,
  SignJWT,
  type CryptoKey,
  type JWTHeaderParameters,
  type JWTPayload,
} from 'jose';
import { createJwtAuthenticator } from '../../src/auth/jwt-authenticator.js';
import { KeySourceError } from '../../src/auth/key-ring.js';
import { mintToken, parseClaimArgs } from '../../src/auth/mint.js';
import { ANONYMOUS, type Authenticator, type Credentials, type Subject } from '../../src/auth/types.js';
import { tokenCommand } from '../../src/cli/token-command.js';
import { loadAuthConfig } from '../../src/config/load.js';
import type { AuthConfig, JwtKeyConfig } from '../../src/config/schema.js';
import { PublicError } from '../../src/errors.js';

const SECRET = 'a-development-secret-of-at-least-32-chars';
const OTHER_SECRET = 'another-secret-that-is-also-long-enough!!';
const WWW_AUTHENTICATE = 'Bearer realm="sluice", error="invalid_token"';
const now = (): number => Math.floor(Date.now() / 1000);

function authConfig(keys: JwtKeyConfig[], extra: Partial<AuthConfig> = {}): AuthConfig {
  return { keys, clockToleranceSeconds: 30, maxTokenBytes: 8192, ...extra };
}

const hsKey = (extra: Partial<JwtKeyConfig> = {}): JwtKeyConfig => ({
  algorithms: ['HS256', 'HS384', 'HS512'],
  secret: SECRET,
  ...extra,
});

interface SignOptions {
  header?: Partial<JWTHeaderParameters>;
  exp?: number | null;
}

/** A jose-signed token; exp defaults to one hour ahead, `exp: null` leaves it out. */
async function sign(key: CryptoKey | Uint8Array, alg: string, payload: JWTPayload, options: SignOptions = {}): Promise<string> {
  const jwt = new SignJWT({ sub: 'alice', ...payload }).setProtectedHeader({ alg, ...options.header }).setIssuedAt();
  const exp = options.exp === undefined ? now() + 3600 : options.exp;
  if (exp !== null) jwt.setExpirationTime(exp);
  return jwt.sign(key);
}

const secretBytes = (secret: string = SECRET): Uint8Array => new TextEncoder().encode(secret);
const bearer = (token: string): Credentials => ({ authorization: `Bearer ${token}` });

async function assertRejected(authenticator: Authenticator, credentials: Credentials): Promise<void> {
  await assert.rejects(authenticator.authenticate(credentials), (error: unknown) => {
    assert.ok(error instanceof PublicError, `expected PublicError, got ${String(error)}`);
    assert.equal(error.status, 401);
    assert.equal(error.reason, 'invalid token');
    assert.equal(error.headers['WWW-Authenticate'], WWW_AUTHENTICATE);
    return true;
  });
}

async function assertSubject(authenticator: Authenticator, credentials: Credentials, sub = 'alice'): Promise<Subject> {
  const subject = await authenticator.authenticate(credentials);
  assert.equal(subject.authenticated, true);
  assert.equal(subject.id, sub);
  return subject;
}

type KeyPair = { publicKey: CryptoKey; privateKey: CryptoKey };
let rsa: KeyPair;
let ec: KeyPair;
let ed: KeyPair;
let rsaPem: string;
let ecPem: string;
let edPem: string;

before(async () => {
  rsa = await generateKeyPair('RS256', { extractable: true });
  ec = await generateKeyPair('ES256', { extractable: true });
  ed = await generateKeyPair('EdDSA', { extractable: true });
  rsaPem = await exportSPKI(rsa.publicKey);
  ecPem = await exportSPKI(ec.publicKey);
  edPem = await exportSPKI(ed.publicKey);
});

describe('token source', () => {
  it('no token at all is anonymous', async () => {
    const auth = await createJwtAuthenticator(authConfig([hsKey()], { cookieName: 'sluice_token' }));
    assert.equal(await auth.authenticate({}), ANONYMOUS);
    assert.equal(await auth.authenticate({ authorization: '', cookie: 'other=1; theme=dark' }), ANONYMOUS);
    assert.equal(await auth.authenticate({ cookie: 'sluice_token=' }), ANONYMOUS);
  });

  it('reads the Bearer header with a case-insensitive scheme', async () => {
    const auth = await createJwtAuthenticator(authConfig([hsKey()]));
    const token = await sign(secretBytes(), 'HS256', {});
    await assertSubject(auth, { authorization: `Bearer ${token}` });
    await assertSubject(auth, { authorization: `bEaReR   ${token}  ` });
  });

  it('reads the configured cookie, exact name, quoted or not', async () => {
    const auth = await createJwtAuthenticator(authConfig([hsKey()], { cookieName: 'sluice_token' }));
    const token = await sign(secretBytes(), 'HS256', {});
    await assertSubject(auth, { cookie: `theme=dark; sluice_token=${token}; lang=en` });
    await assertSubject(auth, { cookie: `sluice_token="${token}"` });
    assert.equal(await auth.authenticate({ cookie: `Sluice_Token=${token}` }), ANONYMOUS);
    assert.equal(await auth.authenticate({ cookie: `xsluice_token=${token}` }), ANONYMOUS);
  });

  it('ignores cookies when no cookie name is configured', async () => {
    const auth = await createJwtAuthenticator(authConfig([hsKey()]));
    const token = await sign(secretBytes(), 'HS256', {});
    assert.equal(await auth.authenticate({ cookie: `sluice_token=${token}` }), ANONYMOUS);
  });

  it('prefers the Bearer header over the cookie, even an invalid one', async () => {
    const auth = await createJwtAuthenticator(authConfig([hsKey()], { cookieName: 'sluice_token' }));
    const bob = await sign(secretBytes(), 'HS256', { sub: 'bob' });
    const carol = await sign(secretBytes(), 'HS256', { sub: 'carol' });
    await assertSubject(auth, { authorization: `Bearer ${bob}`, cookie: `sluice_token=${carol}` }, 'bob');
    await assertRejected(auth, { authorization: 'Bearer garbage', cookie: `sluice_token=${carol}` });
  });

  it('ignores other Authorization schemes (falls back to the cookie)', async () => {
    const auth = await createJwtAuthenticator(authConfig([hsKey()], { cookieName: 'sluice_token' }));
    const carol = await sign(secretBytes(), 'HS256', { sub: 'carol' });
    assert.equal(await auth.authenticate({ authorization: 'Basic YWxpY2U6c2VjcmV0' }), ANONYMOUS);
    await assertSubject(auth, { authorization: 'Basic YWxpY2U6c2VjcmV0', cookie: `sluice_token=${carol}` }, 'carol');
  });

  it('rejects a Bearer header without a token or with several words', async () => {
    const auth = await createJwtAuthenticator(authConfig([hsKey()]));
    const token = await sign(secretBytes(), 'HS256', {});
    await assertRejected(auth, { authorization: 'Bearer' });
    await assertRejected(auth, { authorization: 'Bearer   ' });
    await assertRejected(auth, { authorization: `Bearer ${token} ${token}` });
  });

  it('rejects oversized tokens from the header and the cookie', async () => {
    const auth = await createJwtAuthenticator(authConfig([hsKey()], { cookieName: 'sluice_token', maxTokenBytes: 256 }));
    const big = await sign(secretBytes(), 'HS256', { pad: 'x'.repeat(300) });
    assert.ok(big.length > 256);
    await assertRejected(auth, bearer(big));
    await assertRejected(auth, { cookie: `sluice_token=${big}` });
    await assertSubject(auth, bearer(await sign(secretBytes(), 'HS256', {})));
  });
});

describe('JWT verification: accepted tokens', () => {
  it('accepts HS256, HS384 and HS512 and returns the subject', async () => {
    const auth = await createJwtAuthenticator(authConfig([hsKey()]));
    for (const alg of ['HS256', 'HS384', 'HS512']) {
      const subject = await assertSubject(auth, bearer(await sign(secretBytes(), alg, { groups: ['staff'] })));
      assert.deepEqual(subject.claims.groups, ['staff']);
      assert.equal(typeof subject.claims.exp, 'number');
    }
  });

  it('accepts RS256, ES256 and EdDSA with SPKI PEM keys', async () => {
    const auth = await createJwtAuthenticator(
      authConfig([
        { algorithms: ['RS256'], publicKey: rsaPem },
        { algorithms: ['ES256'], publicKey: ecPem },
        { algorithms: ['EdDSA'], publicKey: edPem },
      ]),
    );
    await assertSubject(auth, bearer(await sign(rsa.privateKey, 'RS256', {})));
    await assertSubject(auth, bearer(await sign(ec.privateKey, 'ES256', {})));
    await assertSubject(auth, bearer(await sign(ed.privateKey, 'EdDSA', {})));
  });

  it('imports one PEM for each of its algorithms (RS256 and PS256)', async () => {
    // WebCrypto binds a key to one algorithm, so the same RSA private key is imported twice.
    const privatePem = await exportPKCS8(rsa.privateKey);
    const auth = await createJwtAuthenticator(authConfig([{ algorithms: ['RS256', 'PS256'], publicKey: rsaPem }]));
    await assertSubject(auth, bearer(await sign(await importPKCS8(privatePem, 'PS256'), 'PS256', {})));
    await assertSubject(auth, bearer(await sign(await importPKCS8(privatePem, 'RS256'), 'RS256', {})));
  });

  it('tries every key of the right algorithm when the token has no kid', async () => {
    const auth = await createJwtAuthenticator(authConfig([hsKey({ kid: 'one' }), hsKey({ kid: 'two', secret: OTHER_SECRET })]));
    await assertSubject(auth, bearer(await sign(secretBytes(OTHER_SECRET), 'HS256', {})));
  });

  it('uses only the key with the token kid', async () => {
    const auth = await createJwtAuthenticator(authConfig([hsKey({ kid: 'one' }), hsKey({ kid: 'two', secret: OTHER_SECRET })]));
    await assertSubject(auth, bearer(await sign(secretBytes(OTHER_SECRET), 'HS256', {}, { header: { kid: 'two' } })));
    await assertRejected(auth, bearer(await sign(secretBytes(OTHER_SECRET), 'HS256', {}, { header: { kid: 'one' } })));
  });

  it('honours issuer and audience when configured', async () => {
    const auth = await createJwtAuthenticator(authConfig([hsKey()], { issuer: 'https://idp.example', audience: 'sluice' }));
    await assertSubject(auth, bearer(await sign(secretBytes(), 'HS256', { iss: 'https://idp.example', aud: ['other', 'sluice'] })));
  });

  it('gives id null when sub is not a string', async () => {
    const auth = await createJwtAuthenticator(authConfig([hsKey()]));
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(secretBytes());
    const subject = await auth.authenticate(bearer(token));
    assert.equal(subject.authenticated, true);
    assert.equal(subject.id, null);
  });
});

describe('JWT verification: rejected tokens', () => {
  it('rejects alg "none", signed or not', async () => {
    const auth = await createJwtAuthenticator(authConfig([hsKey()]));
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }));
    const payload = base64url.encode(JSON.stringify({ sub: 'alice', exp: now() + 3600 }));
    await assertRejected(auth, bearer(`${header}.${payload}.`));
    await assertRejected(auth, bearer(`${header}.${payload}.c2lnbmF0dXJl`));
  });

  it('rejects HS256 signed with the RSA public key PEM (key confusion)', async () => {
    const auth = await createJwtAuthenticator(authConfig([{ kid: 'rsa', algorithms: ['RS256'], publicKey: rsaPem }]));
    await assertRejected(auth, bearer(await sign(secretBytes(rsaPem), 'HS256', {})));
    await assertRejected(auth, bearer(await sign(secretBytes(rsaPem), 'HS256', {}, { header: { kid: 'rsa' } })));
  });

  it('rejects an algorithm the key is not pinned to', async () => {
    const auth = await createJwtAuthenticator(authConfig([hsKey({ algorithms: ['HS256'] })]));
    await assertRejected(auth, bearer(await sign(secretBytes(), 'HS512', {})));
  });

  it('rejects key-injection headers (jku, x5u, jwk, x5c) even on a valid signature', async () => {
    const auth = await createJwtAuthenticator(authConfig([{ algorithms: ['RS256'], publicKey: rsaPem }]));
    const jwk = await exportJWK(rsa.publicKey);
    const injected: Partial<JWTHeaderParameters>[] = [
      { jku: 'https://attacker.example/jwks.json' },
      { x5u: 'https://attacker.example/cert.pem' },
      { jwk: { kty: jwk.kty, n: jwk.n, e: jwk.e } },
      { x5c: ['MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'] },
    ];
    for (const header of injected) {
      await assertRejected(auth, bearer(await sign(rsa.privateKey, 'RS256', {}, { header })));
    }
  });

  it('rejects a token without exp', async () => {
    const auth = await createJwtAuthenticator(authConfig([hsKey()]));
    await assertRejected(auth, bearer(await sign(secretBytes(), 'HS256', {}, { exp: null })));
  });

  it('rejects an expired token', async () => {
    const auth = await createJwtAuthenticator(authConfig([hsKey()]));
    await assertRejected(auth, bearer(await sign(secretBytes(), 'HS256', {}, { exp: now() - 3600 })));
  });

  it('rejects a token living longer than auth.maxTokenLifetimeSeconds, and only then', async () => {
    const auth = await createJwtAuthenticator(authConfig([hsKey()], { maxTokenLifetimeSeconds: 3600 }));
    await assertRejected(auth, bearer(await sign(secretBytes(), 'HS256', {}, { exp: now() + 7200 })));
    await assertRejected(auth, bearer(await sign(secretBytes(), 'HS256', {}, { exp: 1e300 })));
    assert.equal((await auth.authenticate(bearer(await sign(secretBytes(), 'HS256', {}, { exp: now() + 1800 })))).authenticated, true);
  });

  it('rejects nbf in the future beyond the tolerance', async () => {
    const auth = await createJwtAuthenticator(authConfig([hsKey()]));
    await assertRejected(auth, bearer(await sign(secretBytes(), 'HS256', { nbf: now() + 3600 })));
  });

  it('rejects a wrong issuer or audience, and missing ones when configured', async () => {
    const auth = await createJwtAuthenticator(authConfig([hsKey()], { issuer: 'https://idp.example', audience: 'sluice' }));
    await assertRejected(auth, bearer(await sign(secretBytes(), 'HS256', { iss: 'https://evil.example', aud: 'sluice' })));
    await assertRejected(auth, bearer(await sign(secretBytes(), 'HS256', { iss: 'https://idp.example', aud: 'other' })));
    await assertRejected(auth, bearer(await sign(secretBytes(), 'HS256', { aud: 'sluice' })));
    await assertRejected(auth, bearer(await sign(secretBytes(), 'HS256', { iss: 'https://idp.example' })));
  });

  it('rejects an unknown kid, and a kid on a key-less-kid configuration', async () => {
    const auth = await createJwtAuthenticator(authConfig([hsKey({ kid: 'k1' })]));
    await assertSubject(auth, bearer(await sign(secretBytes(), 'HS256', {}, { header: { kid: 'k1' } })));
    await assertRejected(auth, bearer(await sign(secretBytes(), 'HS256', {}, { header: { kid: 'k2' } })));
    const noKid = await createJwtAuthenticator(authConfig([hsKey()]));
    await assertRejected(noKid, bearer(await sign(secretBytes(), 'HS256', {}, { header: { kid: 'k1' } })));
  });

  it('rejects a wrong signature', async () => {
    const auth = await createJwtAuthenticator(authConfig([hsKey()]));
    await assertRejected(auth, bearer(await sign(secretBytes(OTHER_SECRET), 'HS256', {})));
    const other = await generateKeyPair('RS256');
    const rsaAuth = await createJwtAuthenticator(authConfig([{ algorithms: ['RS256'], publicKey: rsaPem }]));
    await assertRejected(rsaAuth, bearer(await sign(other.privateKey, 'RS256', {})));
  });

  it('rejects a signature whose unused trailing bits were changed (no malleable twins)', async () => {
    const auth = await createJwtAuthenticator(authConfig([hsKey()]));
    const token = await sign(secretBytes(SECRET), 'HS256', {});
    await assertSubject(auth, bearer(token));
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(token.at(-1) as string);
    const twin = `${token.slice(0, -1)}${alphabet[last ^ 1]}`;
    assert.deepEqual(Buffer.from(twin.split('.')[2] as string, 'base64url'), Buffer.from(token.split('.')[2] as string, 'base64url'), 'same signature bytes');
    await assertRejected(auth, bearer(twin));
  });

  it('rejects garbage', async () => {
    const auth = await createJwtAuthenticator(authConfig([hsKey()]));
    const valid = await sign(secretBytes(), 'HS256', {});
    const [header, payload] = valid.split('.');
    const garbage = [
      'not-a-token',
      'a.b.c',
      'a.b.c.d.e',
      `${header}.${payload}`,
      `${base64url.encode('{not json')}.${payload}.c2ln`,
      `${base64url.encode('[1,2]')}.${payload}.c2ln`,
      `${base64url.encode(JSON.stringify({ alg: 'HS256', kid: 7 }))}.${payload}.c2ln`,
      `${header}.${base64url.encode('not json')}.${valid.split('.')[2]}`,
      `${valid}!`,
    ];
    for (const token of garbage) await assertRejected(auth, bearer(token));
  });

  it('rejects every token when no keys are configured', async () => {
    const auth = await createJwtAuthenticator(authConfig([]));
    await assertRejected(auth, bearer(await sign(secretBytes(), 'HS256', {})));
    assert.equal(await auth.authenticate({}), ANONYMOUS);
  });
});

describe('clock tolerance', () => {
  it('accepts a token expired within the tolerance and rejects it without tolerance', async () => {
    const token = await sign(secretBytes(), 'HS256', {}, { exp: now() - 10 });
    await assertSubject(await createJwtAuthenticator(authConfig([hsKey()], { clockToleranceSeconds: 30 })), bearer(token));
    await assertRejected(await createJwtAuthenticator(authConfig([hsKey()], { clockToleranceSeconds: 0 })), bearer(token));
  });

  it('accepts nbf slightly in the future within the tolerance', async () => {
    const token = await sign(secretBytes(), 'HS256', { nbf: now() + 10 });
    await assertSubject(await createJwtAuthenticator(authConfig([hsKey()], { clockToleranceSeconds: 30 })), bearer(token));
    await assertRejected(await createJwtAuthenticator(authConfig([hsKey()], { clockToleranceSeconds: 0 })), bearer(token));
  });
});

describe('start-up key import', () => {
  it('fails at creation, naming the key, when a PEM does not fit its algorithm', async () => {
    await assert.rejects(createJwtAuthenticator(authConfig([hsKey(), { algorithms: ['ES256'], publicKey: rsaPem }])), /auth\.keys\[1\].*ES256/);
    await assert.rejects(createJwtAuthenticator(authConfig([{ algorithms: ['RS256'], publicKey: 'not a pem' }])), /auth\.keys\[0\]/);
  });
});

describe('JWKS URL', () => {
  let server: Server;
  let jwksUrl: string;
  let requests = 0;
  let jwksRsa: KeyPair;
  let jwksRsa2: KeyPair;
  let jwksEc: KeyPair;

  before(async () => {
    jwksRsa = await generateKeyPair('RS256');
    jwksRsa2 = await generateKeyPair('RS256');
    jwksEc = await generateKeyPair('ES256');
    const keys = [
      { ...(await exportJWK(jwksRsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
      { ...(await exportJWK(jwksRsa2.publicKey)), kid: 'rsa-2', alg: 'RS256', use: 'sig' },
      { ...(await exportJWK(jwksEc.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
    ];
    const body = JSON.stringify({ keys });
    server = createServer((req, res) => {
      requests++;
      if (req.url !== '/jwks.json') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const jwksConfig = (): AuthConfig => authConfig([{ algorithms: ['RS256', 'ES256'], jwksUrl }]);

  it('verifies tokens whose kid is in the set, fetching the set once', async () => {
    const before = requests;
    const auth = await createJwtAuthenticator(jwksConfig());
    await assertSubject(auth, bearer(await sign(jwksRsa.privateKey, 'RS256', {}, { header: { kid: 'rsa-1' } })));
    await assertSubject(auth, bearer(await sign(jwksEc.privateKey, 'ES256', {}, { header: { kid: 'ec-1' } })));
    await assertSubject(auth, bearer(await sign(jwksRsa2.privateKey, 'RS256', {}, { header: { kid: 'rsa-2' } })));
    assert.equal(requests - before, 1);
  });

  it('finds the key among several candidates when the token has no kid', async () => {
    const auth = await createJwtAuthenticator(jwksConfig());
    await assertSubject(auth, bearer(await sign(jwksRsa2.privateKey, 'RS256', {})));
    await assertSubject(auth, bearer(await sign(jwksEc.privateKey, 'ES256', {})));
  });

  it('rejects an unknown kid, a key outside the set, and an unpinned algorithm', async () => {
    const auth = await createJwtAuthenticator(jwksConfig());
    await assertRejected(auth, bearer(await sign(jwksRsa.privateKey, 'RS256', {}, { header: { kid: 'nope' } })));
    await assertRejected(auth, bearer(await sign(rsa.privateKey, 'RS256', {}, { header: { kid: 'rsa-1' } })));
    await assertRejected(auth, bearer(await sign(rsa.privateKey, 'RS256', {})));
    const rsaOnly = await createJwtAuthenticator(authConfig([{ algorithms: ['RS256'], jwksUrl }]));
    await assertRejected(rsaOnly, bearer(await sign(jwksEc.privateKey, 'ES256', {}, { header: { kid: 'ec-1' } })));
  });

  it('fails closed with 503 when the JWKS is unreachable (a dependency failure, not a 401)', async () => {
    const auth = await createJwtAuthenticator(authConfig([{ algorithms: ['RS256'], jwksUrl: jwksUrl.replace('/jwks.json', '/missing') }]));
    await assert.rejects(
      auth.authenticate(bearer(await sign(jwksRsa.privateKey, 'RS256', {}, { header: { kid: 'rsa-1' } }))),
      (error: unknown) =>
        error instanceof PublicError && error.status === 503 && error.cause instanceof KeySourceError && /auth\.keys\[0\]/.test(error.cause.message),
    );
  });
});

describe('mintToken', () => {
  it('round-trips through the authenticator with claims, issuer, audience and kid', async () => {
    const token = await mintToken({
      secret: SECRET,
      algorithm: 'HS384',
      sub: 'alice',
      ttlSeconds: 120,
      claims: { groups: ['staff'], tenant: 'acme' },
      issuer: 'https://idp.example',
      audience: 'sluice',
      kid: 'dev',
    });
    const auth = await createJwtAuthenticator(authConfig([hsKey({ kid: 'dev' })], { issuer: 'https://idp.example', audience: 'sluice' }));
    const subject = await assertSubject(auth, bearer(token));
    assert.deepEqual(subject.claims.groups, ['staff']);
    assert.equal(subject.claims.tenant, 'acme');
    assert.equal(Number(subject.claims.exp) - Number(subject.claims.iat), 120);
  });

  it('does not let extra claims override the registered ones', async () => {
    const token = await mintToken({ secret: SECRET, sub: 'alice', ttlSeconds: 60, claims: { sub: 'root', exp: 9999999999 } });
    const subject = await assertSubject(await createJwtAuthenticator(authConfig([hsKey()])), bearer(token));
    assert.ok(Number(subject.claims.exp) <= now() + 60);
  });

  it('refuses a non-positive ttl', async () => {
    await assert.rejects(mintToken({ secret: SECRET, sub: 'alice', ttlSeconds: 0 }), /ttl/);
  });
});

describe('parseClaimArgs', () => {
  it('parses JSON values and keeps the rest as strings', () => {
    assert.deepEqual(parseClaimArgs(['groups=["a","b"]', 'n=3', 'admin=true', 'team=blue', 'eq=a=b', 'empty=', 'quoted="7"']), {
      groups: ['a', 'b'],
      n: 3,
      admin: true,
      team: 'blue',
      eq: 'a=b',
      empty: '',
      quoted: '7',
    });
  });

  it('throws an Error naming a pair without "="', () => {
    assert.throws(() => parseClaimArgs(['ok=1', 'novalue']), /novalue/);
    assert.throws(() => parseClaimArgs(['=x']), /=x/);
  });

  it('keeps "__proto__" as an ordinary claim', () => {
    const claims = parseClaimArgs(['__proto__={"admin":true}']);
    assert.equal(Object.getPrototypeOf(claims), Object.prototype);
    assert.ok(Object.hasOwn(claims, '__proto__'));
  });
});

describe('token command', () => {
  const config = (auth: Record<string, unknown>) => () => loadAuthConfig({ env: { SLUICE_AUTH: JSON.stringify(auth) } });

  it('prints a token the authenticator accepts', async () => {
    const auth = {
      keys: [
        { algorithms: ['RS256'], publicKey: rsaPem },
        { kid: 'dev', algorithms: ['HS512'], secret: SECRET },
      ],
      audience: 'sluice',
    };
    let output = '';
    const command = tokenCommand(config(auth), (text) => (output += text)).exitOverride();
    await command.parseAsync(['--sub', 'alice', '--ttl', '60', '--claim', 'groups=["staff"]', '--claim', 'n=3'], { from: 'user' });
    assert.match(output, /^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const authenticator = await createJwtAuthenticator(config(auth)());
    const subject = await assertSubject(authenticator, bearer(output.trim()));
    assert.deepEqual(subject.claims.groups, ['staff']);
    assert.equal(subject.claims.n, 3);
    assert.equal(subject.claims.aud, 'sluice');
  });

  it('fails with a message naming auth.keys and SLUICE_JWT_SECRET when there is no HS* key', async () => {
    const command = tokenCommand(config({ keys: [{ algorithms: ['RS256'], publicKey: rsaPem }] }), () => undefined).exitOverride();
    await assert.rejects(command.parseAsync(['--sub', 'alice'], { from: 'user' }), /auth\.keys.*SLUICE_JWT_SECRET/);
  });

  it('fails when --kid names no HS* key', async () => {
    const command = tokenCommand(config({ keys: [{ kid: 'a', algorithms: ['HS256'], secret: SECRET }] }), () => undefined).exitOverride();
    await assert.rejects(command.parseAsync(['--sub', 'alice', '--kid', 'b'], { from: 'user' }), /kid "b"/);
  });
});
