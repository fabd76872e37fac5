// The verification keys, each pinned to the algorithms the operator allowed for it, so a token
// can never pick how it is checked (no alg=none, no HS256-with-the-RSA-public-key confusion).
import { constants, createHmac, createSecretKey, KeyObject, timingSafeEqual, verify as verifySignature, webcrypto } from 'node:crypto';
import { createRemoteJWKSet, errors, importSPKI, type CryptoKey, type JWTVerifyGetKey } from 'jose';
import type { JwtKeyConfig } from '../config/schema.js';

/**
 * Checks a JWS signature over its signing input (`<header>.<payload>`, ASCII) synchronously with
 * node:crypto, for the one algorithm the key is pinned to. WebCrypto (what jose uses) runs every
 * verify as a job on libuv's thread pool: for a 32-byte HMAC the round trip costs far more than
 * the hash (the largest item in the cold-path profile). false = wrong signature.
 */
export type SignatureCheck = (signingInput: string, signature: Buffer) => boolean;

export type KeyMaterial =
  | { readonly kind: 'secret'; readonly key: CryptoKey; readonly check: SignatureCheck }
  | { readonly kind: 'public'; readonly key: CryptoKey; readonly check: SignatureCheck | undefined }
  | { readonly kind: 'jwks'; readonly key: JWTVerifyGetKey };

export type RingKey = KeyMaterial & {
  /** Where the key came from, for start-up and log messages: "auth.keys[0]". */
  readonly label: string;
  readonly kid: string | undefined;
  readonly algorithms: readonly string[];
};

/** The parts of a token's protected header that choose keys. */
export interface KeySelector {
  readonly alg: string;
  readonly kid?: string | undefined;
}

export interface KeyRing {
  readonly keys: readonly RingKey[];
  /** Keys that may verify a token with this header, in configuration order; empty = reject. */
  candidates(selector: KeySelector): readonly RingKey[];
}

/** A key source (JWKS endpoint) could not be reached: a server problem, not a bad token. */
export class KeySourceError extends Error {
  constructor(label: string, options: { cause: unknown }) {
    super(`${label}: JWKS unavailable: ${describe(options.cause)}`, options);
    this.name = 'KeySourceError';
  }
}

export interface KeyRingOptions {
  /** JWKS fetch timeout; jose's default is 5 s, too long to hold a download request. */
  readonly jwksTimeoutMs?: number;
}

/** Imports every configured key; a PEM that does not fit its algorithms fails here, at start-up. */
export async function createKeyRing(configs: readonly JwtKeyConfig[], options: KeyRingOptions = {}): Promise<KeyRing> {
  const nested = await Promise.all(configs.map((config, index) => importKey(config, `auth.keys[${index}]`, options)));
  const keys = nested.flat();
  const matching = (alg: string, kid: string | undefined): readonly RingKey[] =>
    keys.filter(
      (key) =>
        key.algorithms.includes(alg) &&
        // A JWKS picks by kid itself; a static key must carry the token's kid when there is one.
        (kid === undefined || key.kind === 'jwks' || key.kid === kid),
    );
  // The answers for every configured alg (and alg + configured kid) are computed once; a kid no
  // key is configured with can only be a JWKS's. Nothing from a token is ever added to these maps.
  const algorithms = [...new Set(keys.flatMap((key) => key.algorithms))];
  const kids = [...new Set(keys.flatMap((key) => (key.kid === undefined ? [] : [key.kid])))];
  const byAlg = new Map(algorithms.map((alg) => [alg, matching(alg, undefined)]));
  const jwksByAlg = new Map(algorithms.map((alg) => [alg, matching(alg, '')]));
  const byAlgAndKid = new Map(algorithms.flatMap((alg) => kids.map((kid) => [`${alg} ${kid}`, matching(alg, kid)] as const)));
  return {
    keys,
    candidates(selector: KeySelector): readonly RingKey[] {
      if (selector.kid === undefined) return byAlg.get(selector.alg) ?? [];
      return byAlgAndKid.get(`${selector.alg} ${selector.kid}`) ?? jwksByAlg.get(selector.alg) ?? [];
    },
  };
}

async function importHmacKey(secret: Uint8Array, alg: string): Promise<CryptoKey> {
  const hash = `SHA-${alg.slice(2)}`; // HS256 → SHA-256
  return (await webcrypto.subtle.importKey('raw', secret, { name: 'HMAC', hash }, false, ['verify'])) as CryptoKey;
}

async function importKey(config: JwtKeyConfig, label: string, options: KeyRingOptions): Promise<RingKey[]> {
  const base = { label, kid: config.kid, algorithms: [...config.algorithms] };
  if (config.secret !== undefined) {
    const secret = new TextEncoder().encode(config.secret);
    // Imported once here: given raw bytes, jose would import the secret again on every verify
    // (a quarter of the app's CPU per request in the B3 profile). One CryptoKey per hash.
    return Promise.all(
      config.algorithms.map(
        async (alg): Promise<RingKey> => ({ ...base, algorithms: [alg], kind: 'secret', key: await importHmacKey(secret, alg), check: hmacCheck(secret, alg) }),
      ),
    );
  }
  if (config.publicKey !== undefined) {
    const pem = config.publicKey;
    // A WebCrypto key is bound to one algorithm (RS256 and PS256 differ), so one entry per alg.
    return Promise.all(
      config.algorithms.map(async (alg): Promise<RingKey> => {
        try {
          const key = await importSPKI(pem, alg);
          return { ...base, algorithms: [alg], kind: 'public', key, check: publicKeyCheck(KeyObject.from(key as unknown as webcrypto.CryptoKey), alg) };
        } catch (error) {
          throw new Error(`${label}: publicKey is not a usable ${alg} SPKI PEM key: ${describe(error)}`, { cause: error });
        }
      }),
    );
  }
  if (config.jwksUrl !== undefined) {
    const remote = createRemoteJWKSet(new URL(config.jwksUrl), { timeoutDuration: options.jwksTimeoutMs ?? 3000 });
    return [{ ...base, kind: 'jwks', key: guardJwks(remote, label) }];
  }
  throw new Error(`${label}: set exactly one of secret, publicKey, jwksUrl`);
}

function hmacCheck(secret: Uint8Array, alg: string): SignatureCheck {
  const hash = `sha${alg.slice(2)}`; // HS256 → sha256
  const key = createSecretKey(secret);
  return (signingInput, signature) => {
    const expected = createHmac(hash, key).update(signingInput, 'latin1').digest();
    return expected.length === signature.length && timingSafeEqual(expected, signature);
  };
}

/** ECDSA signature sizes in JWS (IEEE P1363 r‖s), by algorithm. */
const ECDSA_SIGNATURE_BYTES: Readonly<Record<string, number>> = { ES256: 64, ES384: 96, ES512: 132 };

/**
 * A synchronous check for the public-key algorithms, or undefined where jose's own (WebCrypto)
 * path is kept: RSA keys shorter than 2048 bits, which jose refuses per token.
 */
function publicKeyCheck(key: KeyObject, alg: string): SignatureCheck | undefined {
  const family = alg.slice(0, 2);
  const hash = `sha${alg.slice(2)}`;
  if (family === 'RS' || family === 'PS') {
    const bits = key.asymmetricKeyDetails?.modulusLength;
    if (key.asymmetricKeyType !== 'rsa' || bits === undefined || bits < 2048) return undefined;
    const options = family === 'RS' ? { key } : { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
    return (signingInput, signature) => safeVerify(hash, signingInput, options, signature);
  }
  if (family === 'ES') {
    const size = ECDSA_SIGNATURE_BYTES[alg];
    if (key.asymmetricKeyType !== 'ec' || size === undefined) return undefined;
    const options = { key, dsaEncoding: 'ieee-p1363' as const };
    return (signingInput, signature) => signature.length === size && safeVerify(hash, signingInput, options, signature);
  }
  if (alg === 'EdDSA' && (key.asymmetricKeyType === 'ed25519' || key.asymmetricKeyType === 'ed448')) {
    return (signingInput, signature) => safeVerify(null, signingInput, key, signature);
  }
  return undefined;
}

function safeVerify(hash: string | null, signingInput: string, key: Parameters<typeof verifySignature>[2], signature: Buffer): boolean {
  try {
    return verifySignature(hash, Buffer.from(signingInput, 'latin1'), key, signature);
  } catch {
    return false; // malformed signature (e.g. an invalid DER/P1363 value): not this key's
  }
}

/** jose errors that mean "this token does not fit the set" rather than "the set is unreachable". */
const SELECTION_ERRORS: readonly string[] = [errors.JWKSNoMatchingKey.code, errors.JWKSMultipleMatchingKeys.code, errors.JOSENotSupported.code];

function guardJwks(remote: JWTVerifyGetKey, label: string): JWTVerifyGetKey {
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      if (error instanceof errors.JOSEError && SELECTION_ERRORS.includes(error.code)) throw error;
      throw new KeySourceError(label, { cause: error });
    }
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
