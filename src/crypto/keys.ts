// Data keys of encrypted stores, as the keyring hands them out. A data key never encrypts an
// object directly: each object derives its own key from it and a random salt (src/crypto/format.ts).

export interface DataKey {
  readonly id: string;
  /** 32 random bytes. */
  readonly secret: Buffer;
  /** ISO time the key was added; the newest key encrypts new objects. */
  readonly createdAt: string;
}

export type KeyLookup = (id: string) => DataKey | undefined;

/** Key ids travel in every object header (at most 28 bytes there). */
export const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,28}$/;

export const DATA_KEY_BYTES = 32;

/** The object names a key id the keyring does not hold (removed, or another keyring). */
export class UnknownKeyError extends Error {
  constructor(readonly keyId: string) {
    super(`object is encrypted with key "${keyId}", which the keyring does not hold`);
    this.name = 'UnknownKeyError';
  }
}
