// Synchronous verification of a compact JWS JWT against one static key (secret or PEM public key),
// with the same claim checks jose's jwtVerify applies under our options. The caller (the
// authenticator) has already refused malformed and non-canonical tokens, alg "none",
// key-injection headers and unknown algorithms, and pinned the algorithm to the key; headers
// with extensions (crit, b64) and JWKS keys stay on jose's path.
import { errors, type JWTPayload } from 'jose';
import type { SignatureCheck } from './key-ring.js';

export interface ClaimRules {
  readonly clockToleranceSeconds: number;
  readonly issuer?: string | undefined;
  readonly audience?: string | undefined;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The verified claims. Throws jose's JWSSignatureVerificationFailed when the signature is not
 * this key's (the caller may try another key) and other jose errors for anything judged on a
 * verified signature (malformed claims, expired, not yet valid, wrong issuer or audience).
 */
export function verifyCompactSync(token: string, check: SignatureCheck, rules: ClaimRules): JWTPayload {
  const lastDot = token.lastIndexOf('.');
  const signingInput = token.slice(0, lastDot);
  if (!check(signingInput, Buffer.from(token.slice(lastDot + 1), 'base64url'))) throw new errors.JWSSignatureVerificationFailed();
  let claims: unknown;
  try {
    claims = JSON.parse(strictUtf8.decode(Buffer.from(signingInput.slice(signingInput.indexOf('.') + 1), 'base64url')));
  } catch (cause) {
    throw new errors.JWTInvalid('JWT Claims Set must be a top-level JSON object', { cause });
  }
  if (!isPlainObject(claims)) throw new errors.JWTInvalid('JWT Claims Set must be a top-level JSON object');
  return validateClaims(claims, rules, Math.floor(Date.now() / 1000));
}

/** jose's validateClaimsSet for requiredClaims ["exp"], issuer, audience and clockTolerance. */
export function validateClaims(claims: JWTPayload, rules: ClaimRules, now: number): JWTPayload {
  if (rules.issuer !== undefined && !Object.hasOwn(claims, 'iss')) claimFailed(claims, 'iss', 'missing');
  if (rules.audience !== undefined && !Object.hasOwn(claims, 'aud')) claimFailed(claims, 'aud', 'missing');
  if (!Object.hasOwn(claims, 'exp')) claimFailed(claims, 'exp', 'missing');
  if (rules.issuer !== undefined && claims.iss !== rules.issuer) claimFailed(claims, 'iss', 'check_failed');
  if (rules.audience !== undefined && !hasAudience(claims.aud, rules.audience)) claimFailed(claims, 'aud', 'check_failed');
  const tolerance = rules.clockToleranceSeconds;
  if (claims.iat !== undefined && typeof claims.iat !== 'number') claimFailed(claims, 'iat', 'invalid');
  const nbf = claims.nbf;
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > now + tolerance)) claimFailed(claims, 'nbf', typeof nbf === 'number' ? 'check_failed' : 'invalid');
  const exp = claims.exp;
  if (typeof exp !== 'number') return claimFailed(claims, 'exp', 'invalid');
  if (exp <= now - tolerance) throw new errors.JWTExpired('"exp" claim timestamp check failed', claims, 'exp', 'check_failed');
  return claims;
}

function claimFailed(claims: JWTPayload, claim: string, reason: string): never {
  throw new errors.JWTClaimValidationFailed(`unexpected "${claim}" claim value`, claims, claim, reason);
}

function hasAudience(aud: unknown, expected: string): boolean {
  return typeof aud === 'string' ? aud === expected : Array.isArray(aud) && aud.includes(expected);
}

function isPlainObject(value: unknown): value is JWTPayload {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return Object.getPrototypeOf(value) === Object.prototype;
}
