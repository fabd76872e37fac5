// Share link tokens: compact JWS (HS256) with a `kid`, so several keys can verify while the
// newest signs (rotation without downtime). The expiry and the whole scope are inside the signed
// part; a link's own `typ` keeps it from ever passing as a bearer token, and the reverse.
import { randomBytes } from 'node:crypto';
import { decodeProtectedHeader, errors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { PublicError } from '../errors.js';
import { hasCanonicalSignature } from '../auth/jws.js';

export const LINK_TYPE = 'sluice-link+jwt';
const ALGORITHM = 'HS256';
/** Links travel in URLs; anything longer is not one of ours. */
const MAX_LINK_BYTES = 4096;

export interface LinkClaims {
  /** The link id (JWT `jti`): what revocation and download counting refer to. */
  readonly id: string;
  readonly store: string;
  /** Exactly one of key and prefix. */
  readonly key?: string;
  readonly prefix?: string;
  /** Seconds since the epoch; iat keeps milliseconds so "revoke all links of a subject" is exact. */
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly maxDownloads?: number;
  /** The subject whose token must accompany the link. */
  readonly boundTo?: string;
  /** The subject that minted it (for revocation). */
  readonly createdBy?: string;
}

export type NewLink = Omit<LinkClaims, 'id' | 'issuedAt'>;

export interface LinkKey {
  readonly kid: string;
  readonly secret: string;
}

export interface LinkKeyRing {
  /** Signs with the first key; returns the token and the claims it carries. */
  sign(link: NewLink): Promise<{ token: string; claims: LinkClaims }>;
  /** 401 for anything not signed by a listed key; 410 for an expired link. */
  verify(token: string): Promise<LinkClaims>;
}

const payloadSchema = z.object({
  jti: z.string().min(1),
  store: z.string().min(1),
  key: z.string().min(1).optional(),
  prefix: z.string().min(1).optional(),
  iat: z.number(),
  exp: z.number(),
  maxDownloads: z.number().int().min(1).optional(),
  boundTo: z.string().min(1).optional(),
  createdBy: z.string().min(1).optional(),
});

export function invalidLink(): PublicError {
  return new PublicError(401, 'invalid share link');
}

/** `now` (milliseconds) is injectable for tests. */
export function createLinkKeyRing(keys: readonly LinkKey[], now: () => number = Date.now): LinkKeyRing {
  const secrets = new Map(keys.map((k) => [k.kid, new TextEncoder().encode(k.secret)]));
  const signing = keys[0];
  return {
    async sign(link: NewLink) {
      if (signing === undefined) throw new Error('no share link key configured');
      const claims: LinkClaims = { ...link, id: randomBytes(16).toString('base64url'), issuedAt: now() / 1000 };
      const token = await new SignJWT({
        store: claims.store,
        ...(claims.key === undefined ? {} : { key: claims.key }),
        ...(claims.prefix === undefined ? {} : { prefix: claims.prefix }),
        ...(claims.maxDownloads === undefined ? {} : { maxDownloads: claims.maxDownloads }),
        ...(claims.boundTo === undefined ? {} : { boundTo: claims.boundTo }),
        ...(claims.createdBy === undefined ? {} : { createdBy: claims.createdBy }),
        iat: claims.issuedAt,
      })
        .setProtectedHeader({ alg: ALGORITHM, typ: LINK_TYPE, kid: signing.kid })
        .setJti(claims.id)
        .setExpirationTime(claims.expiresAt)
        .sign(secrets.get(signing.kid) as Uint8Array);
      return { token, claims };
    },

    async verify(token: string) {
      if (token.length > MAX_LINK_BYTES || !hasCanonicalSignature(token)) throw invalidLink();
      const secret = secrets.get(kidOf(token));
      if (secret === undefined) throw invalidLink();
      let payload: unknown;
      try {
        ({ payload } = await jwtVerify(token, secret, {
          algorithms: [ALGORITHM],
          typ: LINK_TYPE,
          requiredClaims: ['exp', 'jti', 'iat'],
          currentDate: new Date(now()),
        }));
      } catch (error) {
        // jose checks the signature first, so "expired" is only ever said of a genuine link.
        if (error instanceof errors.JWTExpired) throw new PublicError(410, 'share link expired');
        throw invalidLink();
      }
      return claimsOf(payload);
    },
  };
}

function kidOf(token: string): string {
  try {
    const { kid } = decodeProtectedHeader(token);
    return typeof kid === 'string' ? kid : '';
  } catch {
    throw invalidLink();
  }
}

function claimsOf(payload: unknown): LinkClaims {
  const parsed = payloadSchema.safeParse(payload);
  if (!parsed.success) throw invalidLink();
  const p = parsed.data;
  if ((p.key === undefined) === (p.prefix === undefined)) throw invalidLink();
  return {
    id: p.jti,
    store: p.store,
    ...(p.key === undefined ? {} : { key: p.key }),
    ...(p.prefix === undefined ? {} : { prefix: p.prefix }),
    issuedAt: p.iat,
    expiresAt: p.exp,
    ...(p.maxDownloads === undefined ? {} : { maxDownloads: p.maxDownloads }),
    ...(p.boundTo === undefined ? {} : { boundTo: p.boundTo }),
    ...(p.createdBy === undefined ? {} : { createdBy: p.createdBy }),
  };
}
