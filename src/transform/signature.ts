// imgproxy URL signatures: base64url(HMAC-SHA256(key, salt ‖ path)[:size]), no padding. Every
// configured key/salt pair is tried (rotation without downtime); comparison is constant-time.
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface SigningKey {
  readonly key: Buffer;
  readonly salt: Buffer;
}

/** The raw signature bytes; `key` and `salt` are the decoded bytes, not hex; a string path is UTF-8. */
export function signatureBytes(key: Buffer, salt: Buffer, path: string | Buffer, size = 32): Buffer {
  return createHmac('sha256', key).update(salt).update(path).digest().subarray(0, size);
}

/** The signature as it appears in URLs (lower level: raw key and salt). */
export function computeSignature(key: Buffer, salt: Buffer, path: string, size = 32): string {
  return signatureBytes(key, salt, path, size).toString('base64url');
}

/** Signs `path` (everything after the signature, with its leading `/`) with a hex key and salt. */
export function signPath(path: string, keyHex: string, saltHex: string, size = 32): string {
  return computeSignature(Buffer.from(keyHex, 'hex'), Buffer.from(saltHex, 'hex'), path, size);
}

/** Pairs hex keys with hex salts (the configuration guarantees equal lengths). */
export function signingKeys(keysHex: readonly string[], saltsHex: readonly string[]): SigningKey[] {
  return keysHex.map((keyHex, index) => ({ key: Buffer.from(keyHex, 'hex'), salt: Buffer.from(saltHex(saltsHex, index), 'hex') }));
}

function saltHex(salts: readonly string[], index: number): string {
  const salt = salts[index];
  if (salt === undefined) throw new Error(`no salt for key ${index}`);
  return salt;
}

/** True when `signature` matches `path` (UTF-8 text, or the request's raw bytes) under any of the keys. */
export function verifySignature(signature: string, path: string | Buffer, keys: readonly SigningKey[], size: number): boolean {
  if (!/^[A-Za-z0-9_-]+$/.test(signature)) return false;
  const given = Buffer.from(signature, 'base64url');
  let valid = false;
  for (const { key, salt } of keys) {
    const expected = signatureBytes(key, salt, path, size);
    // every pair is checked even after a match, so timing does not reveal which key signed
    if (given.length === expected.length && timingSafeEqual(given, expected)) valid = true;
  }
  return valid;
}
