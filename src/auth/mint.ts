// Issues HS* tokens for development and scripts (`sluice token`). Production tokens come from
// the identity provider; this exists so a fresh install can be tried without one.
import { SignJWT } from 'jose';

export type HmacAlgorithm = 'HS256' | 'HS384' | 'HS512';

export interface MintOptions {
  secret: string;
  algorithm?: HmacAlgorithm;
  sub: string;
  ttlSeconds: number;
  claims?: Record<string, unknown>;
  issuer?: string;
  audience?: string;
  kid?: string;
}

export async function mintToken(opts: MintOptions): Promise<string> {
  if (!Number.isInteger(opts.ttlSeconds) || opts.ttlSeconds <= 0) {
    throw new Error(`ttl must be a positive whole number of seconds, got ${opts.ttlSeconds}`);
  }
  const alg = opts.algorithm ?? 'HS256';
  const now = Math.floor(Date.now() / 1000);
  // Registered claims are set last so --claim cannot override sub/iat/exp/iss/aud by accident.
  let jwt = new SignJWT({ ...opts.claims })
    .setProtectedHeader(opts.kid === undefined ? { alg, typ: 'JWT' } : { alg, typ: 'JWT', kid: opts.kid })
    .setSubject(opts.sub)
    .setIssuedAt(now)
    .setExpirationTime(now + opts.ttlSeconds);
  if (opts.issuer !== undefined) jwt = jwt.setIssuer(opts.issuer);
  if (opts.audience !== undefined) jwt = jwt.setAudience(opts.audience);
  return jwt.sign(new TextEncoder().encode(opts.secret));
}

/**
 * `--claim k=v` pairs → claims. The value is JSON when it parses (`n=3`, `admin=true`,
 * `groups=["a","b"]`), else the raw string (`team=blue`). The last pair for a name wins.
 */
export function parseClaimArgs(pairs: string[]): Record<string, unknown> {
  const claims = new Map<string, unknown>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`invalid claim "${pair}": expected name=value`);
    claims.set(pair.slice(0, eq), parseValue(pair.slice(eq + 1)));
  }
  // fromEntries defines own properties, so a "__proto__" claim stays a claim.
  return Object.fromEntries(claims);
}

function parseValue(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}
