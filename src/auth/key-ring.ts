// The verification keys, each pinned to the algorithms the operator allowed for it, so a token
// can never pick how it is checked (no alg=none, no HS256-with-the-RSA-public-key confusion).
import { webcrypto } from 'node:crypto';
import { createRemoteJWKSet, errors, importSPKI, type CryptoKey, type JWTVerifyGetKey } from 'jose';
import type { JwtKeyConfig } from '../config/schema.js';

export type KeyMaterial =
  | { readonly kind: 'secret'; readonly key: CryptoKey }
  | { readonly kind: 'public'; readonly key: CryptoKey }
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
  return {
    keys,
    candidates(selector: KeySelector): readonly RingKey[] {
      return keys.filter(
        (key) =>
          key.algorithms.includes(selector.alg) &&
          // A JWKS picks by kid itself; a static key must carry the token's kid when there is one.
          (selector.kid === undefined || key.kind === 'jwks' || key.kid === selector.kid),
      );
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
      config.algorithms.map(async (alg): Promise<RingKey> => ({ ...base, algorithms: [alg], kind: 'secret', key: await importHmacKey(secret, alg) })),
    );
  }
  if (config.publicKey !== undefined) {
    const pem = config.publicKey;
    // A WebCrypto key is bound to one algorithm (RS256 and PS256 differ), so one entry per alg.
    return Promise.all(
      config.algorithms.map(async (alg): Promise<RingKey> => {
        try {
          return { ...base, algorithms: [alg], kind: 'public', key: await importSPKI(pem, alg) };
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

/** jose errors that mean "this token does not fit the set" rather than "the set is unreachable". */
const SELECTION_ERRORS: readonly string[] = [
  errors.JWKSNoMatchingKey.code,
  errors.JWKSMultipleMatchingKeys.code,
  errors.JOSENotSupported.code,
];

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
