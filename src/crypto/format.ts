// The encrypted object format (version 1): a 64-byte header, then the plaintext cut into chunks
// of `chunkSize` bytes, each sealed with AES-256-GCM.
//
//   header  "SLUICE" | version u8 | keyId length u8 | chunkSize u32be | salt 24 B | keyId (28 B, zero-padded)
//   chunk i  ciphertext | tag 16 B       nonce = 0…0 | i (u48be) | final flag (1 on the last chunk)
//
// Every object gets its own AES key, HKDF(data key, salt), so nonces never repeat under a key.
// The AAD of every chunk is the whole header plus the name the object is stored under (its store
// key; '' for loose files): changing the key id, chunk size or salt fails, and so does serving an
// object's bytes under another name (a swapped or copied object). The
// chunk index and the final flag are in the nonce: reordering, dropping or appending chunks, and
// cutting the object at a chunk boundary, all fail authentication. The last chunk is always the
// final one and holds 0…chunkSize-1 bytes (an empty object is one empty final chunk), so sizes map
// both ways without a length field: that is what lets a Range read fetch only the chunks it needs.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { MAX_CHUNK_BYTES, MIN_CHUNK_BYTES } from '../config/encryption-schema.js';
import { KEY_ID_PATTERN, type DataKey } from './keys.js';

export const FORMAT_VERSION = 1;
export const HEADER_BYTES = 64;
export const TAG_BYTES = 16;

const MAGIC = Buffer.from('SLUICE', 'latin1');
const SALT_OFFSET = 12;
const SALT_BYTES = 24;
const KEY_ID_OFFSET = SALT_OFFSET + SALT_BYTES;
const KEY_ID_BYTES = HEADER_BYTES - KEY_ID_OFFSET;
const CIPHER = 'aes-256-gcm';
const KDF_INFO = Buffer.from('sluice object key v1', 'latin1');

/**
 * Why an object failed verification (a fixed set: metric label and log field):
 * `header` not a Sluice object, or its header is damaged or of an unknown version;
 * `size` a stored size no object can have (cut inside a chunk, or shorter than a header);
 * `authentication` a chunk's tag did not verify (altered, reordered, spliced, or stored under another key);
 * `truncated` the object ends before its final chunk; `trailing_data` bytes follow the final chunk.
 */
export type DamageReason = 'header' | 'size' | 'authentication' | 'truncated' | 'trailing_data';

/** Authentication failed or the layout is impossible: the bytes are not what was written. */
export class DamagedObjectError extends Error {
  /** Index of the chunk that failed; undefined when the failure is not in a chunk (header, size). */
  readonly chunk: number | undefined;

  constructor(
    detail = 'ciphertext is damaged or was tampered with',
    readonly reason: DamageReason = 'authentication',
    chunk?: number,
  ) {
    super(detail);
    this.name = 'DamagedObjectError';
    this.chunk = chunk;
  }
}

export interface ObjectHeader {
  readonly version: number;
  readonly keyId: string;
  /** Plaintext bytes per chunk. */
  readonly chunkSize: number;
  readonly salt: Buffer;
  /** The 64 bytes as stored (the AAD of every chunk). */
  readonly raw: Buffer;
}

export function createHeader(keyId: string, chunkSize: number, salt: Buffer = randomBytes(SALT_BYTES)): ObjectHeader {
  if (!KEY_ID_PATTERN.test(keyId)) throw new Error(`invalid key id "${keyId}"`);
  if (!Number.isInteger(chunkSize) || chunkSize < MIN_CHUNK_BYTES || chunkSize > MAX_CHUNK_BYTES) throw new Error(`invalid chunk size ${chunkSize}`);
  const raw = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(raw, 0);
  raw.writeUInt8(FORMAT_VERSION, 6);
  raw.writeUInt8(keyId.length, 7);
  raw.writeUInt32BE(chunkSize, 8);
  salt.copy(raw, SALT_OFFSET);
  raw.write(keyId, KEY_ID_OFFSET, 'latin1');
  return { version: FORMAT_VERSION, keyId, chunkSize, salt: Buffer.from(salt), raw };
}

export function parseHeader(bytes: Buffer): ObjectHeader {
  if (bytes.length < HEADER_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw new DamagedObjectError('not a Sluice encrypted object', 'header');
  const raw = Buffer.from(bytes.subarray(0, HEADER_BYTES));
  const version = raw.readUInt8(6);
  if (version !== FORMAT_VERSION) throw new DamagedObjectError(`unsupported encrypted format version ${version}`, 'header');
  const keyIdLength = raw.readUInt8(7);
  const chunkSize = raw.readUInt32BE(8);
  const keyId = raw.toString('latin1', KEY_ID_OFFSET, KEY_ID_OFFSET + Math.min(keyIdLength, KEY_ID_BYTES));
  const padding = raw.subarray(KEY_ID_OFFSET + keyIdLength);
  if (keyIdLength > KEY_ID_BYTES || !KEY_ID_PATTERN.test(keyId) || padding.some((b) => b !== 0) || chunkSize < MIN_CHUNK_BYTES || chunkSize > MAX_CHUNK_BYTES) {
    throw new DamagedObjectError('encrypted object header is damaged', 'header');
  }
  return { version, keyId, chunkSize, salt: Buffer.from(raw.subarray(SALT_OFFSET, SALT_OFFSET + SALT_BYTES)), raw };
}

/** The object's own AES key. */
export function objectKey(dataKey: DataKey, header: ObjectHeader): Buffer {
  return Buffer.from(hkdfSync('sha256', dataKey.secret, header.salt, Buffer.concat([KDF_INFO, header.raw.subarray(0, SALT_OFFSET)]), 32));
}

function nonce(index: number, final: boolean): Buffer {
  const value = Buffer.alloc(12);
  value.writeUIntBE(index, 5, 6);
  value.writeUInt8(final ? 1 : 0, 11);
  return value;
}

/** What every chunk's tag covers besides the chunk: the header and the object's name. */
export function associatedData(header: ObjectHeader, name: string): Buffer {
  return Buffer.concat([header.raw, Buffer.from(name, 'utf8')]);
}

/** ciphertext ‖ tag of one chunk, as two buffers (no copy). */
export function sealChunk(key: Buffer, aad: Buffer, index: number, final: boolean, plaintext: Buffer): [Buffer, Buffer] {
  const cipher = createCipheriv(CIPHER, key, nonce(index, final));
  cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  cipher.final();
  return [body, cipher.getAuthTag()];
}

/** The chunk's plaintext, released only after its tag verified. */
export function openChunk(key: Buffer, aad: Buffer, index: number, final: boolean, sealed: Buffer): Buffer {
  if (sealed.length < TAG_BYTES) throw new DamagedObjectError('chunk is shorter than its tag', 'truncated', index);
  const decipher = createDecipheriv(CIPHER, key, nonce(index, final));
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  const plaintext = decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES));
  try {
    decipher.final();
  } catch {
    throw new DamagedObjectError('chunk failed authentication', 'authentication', index);
  }
  return plaintext;
}

/** Stored size of a plaintext of `plainSize` bytes. */
export function ciphertextSize(plainSize: number, chunkSize: number): number {
  return HEADER_BYTES + plainSize + TAG_BYTES * (Math.floor(plainSize / chunkSize) + 1);
}

/** Plaintext size of a stored object of `cipherSize` bytes; impossible sizes are damage. */
export function plaintextSize(cipherSize: number, chunkSize: number): number {
  const body = cipherSize - HEADER_BYTES;
  const sealed = chunkSize + TAG_BYTES;
  const remainder = body % sealed;
  if (body < TAG_BYTES || remainder < TAG_BYTES) throw new DamagedObjectError('encrypted object has an impossible size (truncated?)', 'size');
  return Math.floor(body / sealed) * chunkSize + remainder - TAG_BYTES;
}

/** What to fetch and decrypt for the inclusive plaintext range [start, end]. */
export interface ChunkSpan {
  readonly firstChunk: number;
  /** Index of the object's final chunk (the only one sealed as final). */
  readonly finalChunk: number;
  /** Inclusive ciphertext byte range covering the chunks. */
  readonly cipherStart: number;
  readonly cipherEnd: number;
  /** Plaintext bytes to drop from the first chunk, and bytes to emit in all. */
  readonly skip: number;
  readonly length: number;
}

export function chunkSpan(start: number, end: number, plainSize: number, chunkSize: number): ChunkSpan {
  if (start < 0 || end < start || end >= Math.max(plainSize, 1)) throw new RangeError(`range ${start}-${end} outside 0-${plainSize - 1}`);
  const sealed = chunkSize + TAG_BYTES;
  const firstChunk = Math.floor(start / chunkSize);
  const lastChunk = Math.floor(end / chunkSize);
  const cipherEnd = Math.min(HEADER_BYTES + (lastChunk + 1) * sealed, ciphertextSize(plainSize, chunkSize)) - 1;
  return {
    firstChunk,
    finalChunk: Math.floor(plainSize / chunkSize),
    cipherStart: HEADER_BYTES + firstChunk * sealed,
    cipherEnd,
    skip: start - firstChunk * chunkSize,
    length: plainSize === 0 ? 0 : end - start + 1,
  };
}
