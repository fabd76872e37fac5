// The synchronous verification path (node:crypto, own claim checks) must judge every token
// exactly as jose's jwtVerify does under the same options: the same tokens, both verifiers.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { base64url, exportSPKI, generateKeyPair, jwtVerify, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { createJwtAuthenticator } from '../../src/auth/jwt-authenticator.js';
import type { Authenticator } from '../../src/auth/types.js';
import type { AuthConfig, JwtKeyConfig } from '../../src/config/schema.js';

const SECRET = 'a-development-secret-of-at-least-32-chars';
const now = (): number => Math.floor(Date.now() / 1000);
const TOLERANCE = 30;

function authConfig(keys: JwtKeyConfig[], extra: Partial<AuthConfig> = {}): AuthConfig {
  return { keys, clockToleranceSeconds: TOLERANCE, maxTokenBytes: 8192, ...extra };
}

/** A token with exactly these claims (no defaults), signed as given. */
function signed(claims: Record<string, unknown>, alg: string, key: CryptoKey | Uint8Array, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims as JWTPayload).setProtectedHeader({ alg, ...header }).sign(key);
}

async function accepts(auth: Authenticator, token: string): Promise<boolean> {
  return auth.authenticate({ authorization: `Bearer ${token}` }).then(
    () => true,
    () => false,
  );
}

async function joseAccepts(token: string, key: CryptoKey | Uint8Array, alg: string, extra: { issuer?: string; audience?: string } = {}): Promise<boolean> {
  return jwtVerify(token, key, { algorithms: [alg], requiredClaims: ['exp'], clockTolerance: TOLERANCE, ...extra }).then(
    () => true,
    () => false,
  );
}

const CLAIM_SETS: readonly [string, () => Record<string, unknown>][] = [
  ['valid', () => ({ sub: 'a', exp: now() + 60 })],
  ['no exp', () => ({ sub: 'a' })],
  ['exp as a string', () => ({ sub: 'a', exp: String(now() + 60) })],
  ['exp null', () => ({ sub: 'a', exp: null })],
  ['expired beyond the tolerance', () => ({ exp: now() - TOLERANCE - 5 })],
  ['expired within the tolerance', () => ({ exp: now() - TOLERANCE + 5 })],
  ['exp exactly at now - tolerance', () => ({ exp: now() - TOLERANCE })],
  ['nbf ahead beyond the tolerance', () => ({ exp: now() + 60, nbf: now() + TOLERANCE + 5 })],
  ['nbf ahead within the tolerance', () => ({ exp: now() + 60, nbf: now() + TOLERANCE - 5 })],
  ['nbf as a string', () => ({ exp: now() + 60, nbf: 'soon' })],
  ['iat as a string', () => ({ exp: now() + 60, iat: 'yesterday' })],
  ['iat in the future', () => ({ exp: now() + 60, iat: now() + 3600 })],
  ['fractional exp', () => ({ exp: now() + 60.5 })],
  ['right issuer and audience', () => ({ exp: now() + 60, iss: 'idp', aud: 'sluice' })],
  ['audience in a list', () => ({ exp: now() + 60, iss: 'idp', aud: ['other', 'sluice'] })],
  ['wrong issuer', () => ({ exp: now() + 60, iss: 'evil', aud: 'sluice' })],
  ['wrong audience', () => ({ exp: now() + 60, iss: 'idp', aud: 'other' })],
  ['issuer missing', () => ({ exp: now() + 60, aud: 'sluice' })],
  ['audience missing', () => ({ exp: now() + 60, iss: 'idp' })],
  ['issuer as a list', () => ({ exp: now() + 60, iss: ['idp'], aud: 'sluice' })],
];

describe('synchronous JWT verification agrees with jose', () => {
  let ec: { publicKey: CryptoKey; privateKey: CryptoKey };
  let ecPem: string;
  before(async () => {
    ec = await generateKeyPair('ES256', { extractable: true });
    ecPem = await exportSPKI(ec.publicKey);
  });

  it('claims: HS256 and ES256, with and without issuer/audience', async () => {
    const secret = new TextEncoder().encode(SECRET);
    for (const withIssuer of [false, true]) {
      const extra = withIssuer ? { issuer: 'idp', audience: 'sluice' } : {};
      const auth = await createJwtAuthenticator(
        authConfig(
          [
            { algorithms: ['HS256'], secret: SECRET },
            { algorithms: ['ES256'], publicKey: ecPem },
          ],
          extra,
        ),
      );
      for (const [name, claims] of CLAIM_SETS) {
        for (const [alg, signKey, verifyKey] of [
          ['HS256', secret, secret],
          ['ES256', ec.privateKey, ec.publicKey],
        ] as const) {
          const token = await signed(claims(), alg, signKey);
          assert.equal(await accepts(auth, token), await joseAccepts(token, verifyKey, alg, extra), `${alg} ${name} (issuer/audience: ${withIssuer})`);
        }
      }
    }
  });

  it('a payload that is not a JSON object is refused', async () => {
    const auth = await createJwtAuthenticator(authConfig([{ algorithms: ['HS256'], secret: SECRET }]));
    const { createHmac } = await import('node:crypto');
    for (const payload of ['[1,2]', '"text"', 'null', '{"exp":', '\u00ff\u00fe']) {
      const head = base64url.encode(JSON.stringify({ alg: 'HS256' }));
      const body = Buffer.from(payload, payload.startsWith('\u00ff') ? 'latin1' : 'utf8').toString('base64url');
      const sig = createHmac('sha256', SECRET).update(`${head}.${body}`).digest('base64url');
      assert.equal(await accepts(auth, `${head}.${body}.${sig}`), false, payload);
    }
  });

  it('ECDSA signatures of the wrong size, or of another curve size, are refused', async () => {
    const auth = await createJwtAuthenticator(authConfig([{ algorithms: ['ES256'], publicKey: ecPem }]));
    const token = await signed({ exp: now() + 60 }, 'ES256', ec.privateKey);
    assert.equal(await accepts(auth, token), true);
    const [head, body, sig] = token.split('.') as [string, string, string];
    const raw = Buffer.from(sig, 'base64url');
    for (const bad of [raw.subarray(0, 63), Buffer.concat([raw, Buffer.alloc(1)]), Buffer.concat([raw, raw])]) {
      assert.equal(await accepts(auth, `${head}.${body}.${bad.toString('base64url')}`), false, `${bad.length} bytes`);
    }
  });

  it('headers with crit/b64 are judged by jose itself', async () => {
    const secret = new TextEncoder().encode(SECRET);
    const auth = await createJwtAuthenticator(authConfig([{ algorithms: ['HS256'], secret: SECRET }]));
    for (const header of [{ crit: ['exp'], exp: 1 }, { crit: ['b64'], b64: true }, { b64: true }]) {
      const token = await signed({ exp: now() + 60 }, 'HS256', secret, header).catch(() => null);
      if (token === null) continue; // jose would not even sign it
      assert.equal(await accepts(auth, token), await joseAccepts(token, secret, 'HS256'), JSON.stringify(header));
    }
  });
});
