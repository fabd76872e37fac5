// JWT authentication: no token → anonymous; a token → verified against a pinned key or rejected.
import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWTVerifyOptions } from 'jose';
import { verifyCompactSync, type ClaimRules } from './jwt-sync.js';
import type { AuthConfig } from '../config/schema.js';
import { createKeyRing, KeySourceError, type KeyRing, type KeyRingOptions, type KeySelector, type RingKey } from './key-ring.js';
import { extractToken, invalidToken } from './token-source.js';
import { PublicError } from '../errors.js';
import { hasCanonicalSignature } from './jws.js';
import { ANONYMOUS, type Authenticator, type Credentials, type Subject } from './types.js';

/** Header parameters that would let the token name its own key (RFC 8725 §3.10): never honoured. */
const KEY_INJECTION_HEADERS: readonly string[] = ['jku', 'x5u', 'jwk', 'x5c'];

/** Compact JWS: three non-empty base64url parts. An unsigned token (alg none) has no third part. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Async because PEM keys are imported up front (a bad key fails at start-up, not per request).
 * Rejections are PublicError(401); an unreachable JWKS endpoint is PublicError(503).
 */
export async function createJwtAuthenticator(config: AuthConfig, options: KeyRingOptions = {}): Promise<Authenticator> {
  const ring = await createKeyRing(config.keys, options);
  const verifyOptions: JWTVerifyOptions = {
    requiredClaims: ['exp'],
    clockTolerance: config.clockToleranceSeconds,
    ...(config.issuer === undefined ? {} : { issuer: config.issuer }),
    ...(config.audience === undefined ? {} : { audience: config.audience }),
  };
  const claimRules: ClaimRules = { clockToleranceSeconds: config.clockToleranceSeconds, issuer: config.issuer, audience: config.audience };
  const sourceOptions = { cookieName: config.cookieName, maxTokenBytes: config.maxTokenBytes };

  return {
    async authenticate(credentials: Credentials): Promise<Subject> {
      const token = extractToken(credentials, sourceOptions);
      if (token === null) return ANONYMOUS;
      const payload = await verify(token, ring, verifyOptions, claimRules);
      if (config.maxTokenLifetimeSeconds !== undefined && (payload.exp as number) - Date.now() / 1000 > config.maxTokenLifetimeSeconds) {
        throw invalidToken();
      }
      return Object.freeze({
        authenticated: true,
        id: typeof payload.sub === 'string' ? payload.sub : null,
        claims: Object.freeze(payload),
      });
    },
  };
}

async function verify(token: string, ring: KeyRing, options: JWTVerifyOptions, claimRules: ClaimRules): Promise<JWTPayload> {
  const { selector, header } = selectorOf(token);
  const candidates = ring.candidates(selector);
  if (candidates.length === 0) throw invalidToken();
  // Headers with extensions (crit, b64) keep jose's own handling of them.
  const plain = !Object.hasOwn(header, 'crit') && !Object.hasOwn(header, 'b64');
  for (const key of candidates) {
    try {
      if (plain && key.kind !== 'jwks' && key.check !== undefined) return verifyCompactSync(token, key.check, claimRules);
      return await verifyWithKey(token, key, options);
    } catch (error) {
      // The key source (JWKS) is down: a dependency failure, not the caller's fault. Fail closed.
      if (error instanceof KeySourceError) throw new PublicError(503, 'authentication unavailable', { 'Retry-After': '5' }, error);
      // A wrong signature means "maybe another key"; anything else (expired, wrong aud, ...)
      // was judged on a verified signature, so another key would not change the verdict.
      if (!isKeyMismatch(error)) throw invalidToken();
    }
  }
  throw invalidToken();
}

/** Reads the unverified header just far enough to refuse dangerous tokens and pick keys. */
function selectorOf(token: string): { selector: KeySelector; header: Record<string, unknown> } {
  if (!COMPACT_JWS.test(token) || !hasCanonicalSignature(token)) throw invalidToken();
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw invalidToken();
  }
  const { alg, kid } = header;
  if (typeof alg !== 'string' || alg === 'none') throw invalidToken();
  for (const name of KEY_INJECTION_HEADERS) if (Object.hasOwn(header, name)) throw invalidToken();
  if (kid !== undefined && (typeof kid !== 'string' || kid === '')) throw invalidToken();
  return { selector: { alg, kid }, header };
}

async function verifyWithKey(token: string, key: RingKey, options: JWTVerifyOptions): Promise<JWTPayload> {
  const pinned: JWTVerifyOptions = { ...options, algorithms: [...key.algorithms] };
  try {
    return (await jwtVerify(token, key.key, pinned)).payload;
  } catch (error) {
    // Without a kid a JWKS may offer several keys of the right type; jose leaves trying them to us.
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
    for await (const candidate of error) {
      try {
        return (await jwtVerify(token, candidate, pinned)).payload;
      } catch (inner) {
        if (!isKeyMismatch(inner)) throw inner;
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}

function isKeyMismatch(error: unknown): boolean {
  return error instanceof errors.JWSSignatureVerificationFailed || error instanceof errors.JWKSNoMatchingKey;
}
