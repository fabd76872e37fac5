// The encrypted object format: round trips at every size edge, Range mapping against the
// plaintext, and every kind of damage refused (never garbage bytes).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, it } from 'node:test';
import { chunkSpan, ciphertextSize, DamagedObjectError, HEADER_BYTES, objectKey, parseHeader, plaintextSize, TAG_BYTES } from '../../src/crypto/format.js';
import { UnknownKeyError, type DataKey } from '../../src/crypto/keys.js';
import { decryptChunks, decryptStream, encryptStream } from '../../src/crypto/stream.js';

const CHUNK = 4096;
const SEALED = CHUNK + TAG_BYTES;
const k1: DataKey = { id: 'k1', secret: randomBytes(32), createdAt: '2026-01-01T00:00:00Z' };
const k2: DataKey = { id: 'k2', secret: randomBytes(32), createdAt: '2026-02-01T00:00:00Z' };
const lookup = (id: string): DataKey | undefined => [k1, k2].find((k) => k.id === id);

/** Feeds `data` in pieces of `piece` bytes, so chunk boundaries fall mid-write. */
function pieces(data: Buffer, piece: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += piece) parts.push(data.subarray(i, i + piece));
  return Readable.from(parts);
}

const NAME = 'docs/report.pdf';

async function encrypt(plain: Buffer, key = k1, piece = 1000): Promise<Buffer> {
  return buffer(pieces(plain, piece).pipe(encryptStream(key, CHUNK, NAME)));
}

async function decrypt(stored: Buffer, piece = 777, name = NAME): Promise<Buffer> {
  return buffer(pieces(stored, piece).pipe(decryptStream(lookup, name)));
}

async function decryptRange(stored: Buffer, start: number, end: number): Promise<Buffer> {
  const header = parseHeader(stored);
  const plainSize = plaintextSize(stored.length, header.chunkSize);
  const span = chunkSpan(start, end, plainSize, header.chunkSize);
  const slice = stored.subarray(span.cipherStart, span.cipherEnd + 1);
  return buffer(pieces(slice, 999).pipe(decryptChunks({ header, key: objectKey(k1, header), name: NAME, ...span })));
}

describe('encrypted format: round trips', () => {
  for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 5 * CHUNK + 123]) {
    it(`${size} bytes decrypt to the same bytes, with the size computed from the ciphertext`, async () => {
      const plain = randomBytes(size);
      const stored = await encrypt(plain);
      assert.equal(stored.length, ciphertextSize(size, CHUNK));
      assert.equal(plaintextSize(stored.length, CHUNK), size);
      assert.deepEqual(await decrypt(stored), plain);
      assert.equal(parseHeader(stored).keyId, 'k1');
    });
  }

  it('an empty input with no writes at all still yields a valid empty object', async () => {
    const stored = await buffer(Readable.from([]).pipe(encryptStream(k1, CHUNK, NAME)));
    assert.equal(stored.length, HEADER_BYTES + TAG_BYTES);
    assert.equal((await decrypt(stored)).length, 0);
  });

  it('two encryptions of the same plaintext differ (per-object salt and key)', async () => {
    const plain = randomBytes(100);
    assert.notDeepEqual(await encrypt(plain), await encrypt(plain));
  });

  it('objects under different key ids both decrypt through one lookup', async () => {
    const plain = randomBytes(CHUNK + 5);
    assert.deepEqual(await decrypt(await encrypt(plain, k2)), plain);
  });
});

describe('encrypted format: ranges', () => {
  it('every range of a 3-chunk-plus object matches the plaintext slice (at and across chunk boundaries)', async () => {
    const plain = randomBytes(3 * CHUNK + 10);
    const stored = await encrypt(plain);
    const edges = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK - 1, 2 * CHUNK, 3 * CHUNK - 1, 3 * CHUNK, plain.length - 1];
    for (const start of edges) {
      for (const end of edges) {
        if (end < start) continue;
        assert.deepEqual(await decryptRange(stored, start, end), plain.subarray(start, end + 1), `${start}-${end}`);
      }
    }
  });

  it('a range inside one chunk fetches only that chunk', () => {
    const span = chunkSpan(CHUNK + 10, CHUNK + 20, 10 * CHUNK, CHUNK);
    assert.equal(span.cipherStart, HEADER_BYTES + SEALED);
    assert.equal(span.cipherEnd, HEADER_BYTES + 2 * SEALED - 1);
    assert.equal(span.skip, 10);
    assert.equal(span.length, 11);
  });

  it('a range ending in the last chunk stops at the end of the object', () => {
    const plainSize = 2 * CHUNK + 5;
    const span = chunkSpan(2 * CHUNK, plainSize - 1, plainSize, CHUNK);
    assert.equal(span.cipherEnd, ciphertextSize(plainSize, CHUNK) - 1);
    assert.equal(span.finalChunk, 2);
  });

  it('a range that stops at a chunk boundary of an exact multiple still verifies', async () => {
    const plain = randomBytes(2 * CHUNK);
    const stored = await encrypt(plain);
    assert.deepEqual(await decryptRange(stored, CHUNK, 2 * CHUNK - 1), plain.subarray(CHUNK));
  });
});

describe('encrypted format: damage is an error, never bytes', () => {
  const collectUntilError = async (stream: NodeJS.ReadableStream): Promise<{ bytes: number; error: unknown }> => {
    let bytes = 0;
    try {
      for await (const part of stream) bytes += (part as Buffer).length;
    } catch (error) {
      return { bytes, error };
    }
    return { bytes, error: null };
  };

  it('a flipped bit in any chunk fails, and nothing of that chunk is emitted', async () => {
    const plain = randomBytes(3 * CHUNK + 1);
    const stored = await encrypt(plain);
    for (const chunk of [0, 1, 3]) {
      const tampered = Buffer.from(stored);
      const at = HEADER_BYTES + chunk * SEALED + 5;
      tampered[at] = (tampered[at] as number) ^ 1;
      const outcome = await collectUntilError(pieces(tampered, 4000).pipe(decryptStream(lookup, NAME)));
      assert.ok(outcome.error instanceof DamagedObjectError, `chunk ${chunk}`);
      assert.ok(outcome.bytes <= chunk * CHUNK, `only verified chunks before ${chunk} came out (${outcome.bytes})`);
    }
  });

  it('a changed header (key id, chunk size, salt) fails', async () => {
    const stored = await encrypt(randomBytes(CHUNK + 3));
    for (const [offset, value] of [
      [12, 0xff],
      [40, 0x41],
    ] as const) {
      const tampered = Buffer.from(stored);
      tampered[offset] = value;
      await assert.rejects(decrypt(tampered), DamagedObjectError);
    }
    const renamed = Buffer.from(stored);
    renamed.write('k2', 36, 'latin1'); // a real key id, but not the one it was sealed under
    await assert.rejects(decrypt(renamed), DamagedObjectError);
  });

  it('truncation at a chunk boundary, mid-chunk and to the header alone fails', async () => {
    const stored = await encrypt(randomBytes(3 * CHUNK + 100));
    for (const length of [HEADER_BYTES + 2 * SEALED, HEADER_BYTES + SEALED + 100, HEADER_BYTES, 10]) {
      await assert.rejects(decrypt(stored.subarray(0, length)), DamagedObjectError, `length ${length}`);
    }
  });

  it('an exact-multiple object cut before its empty final chunk fails', async () => {
    const stored = await encrypt(randomBytes(2 * CHUNK));
    await assert.rejects(decrypt(stored.subarray(0, stored.length - TAG_BYTES)), DamagedObjectError);
  });

  it('swapped chunks, a duplicated chunk and an appended chunk fail', async () => {
    const stored = await encrypt(randomBytes(3 * CHUNK + 100));
    const header = stored.subarray(0, HEADER_BYTES);
    const chunk = (i: number): Buffer => stored.subarray(HEADER_BYTES + i * SEALED, HEADER_BYTES + (i + 1) * SEALED);
    const tail = stored.subarray(HEADER_BYTES + 3 * SEALED);
    await assert.rejects(decrypt(Buffer.concat([header, chunk(1), chunk(0), chunk(2), tail])), DamagedObjectError);
    await assert.rejects(decrypt(Buffer.concat([header, chunk(0), chunk(0), chunk(1), chunk(2), tail])), DamagedObjectError);
    await assert.rejects(decrypt(Buffer.concat([stored, chunk(0)])), DamagedObjectError);
  });

  it('an object served under another name (swapped or copied in the bucket) fails, even an empty one', async () => {
    await assert.rejects(decrypt(await encrypt(randomBytes(CHUNK + 9)), 777, 'docs/other.pdf'), DamagedObjectError);
    await assert.rejects(decrypt(await encrypt(Buffer.alloc(0)), 777, ''), DamagedObjectError);
  });

  it('a chunk moved from another object under the same key fails', async () => {
    const a = await encrypt(randomBytes(2 * CHUNK + 1));
    const b = await encrypt(randomBytes(2 * CHUNK + 1));
    const mixed = Buffer.concat([a.subarray(0, HEADER_BYTES + SEALED), b.subarray(HEADER_BYTES + SEALED)]);
    await assert.rejects(decrypt(mixed), DamagedObjectError);
  });

  it('a tampered chunk inside a Range read fails', async () => {
    const stored = await encrypt(randomBytes(3 * CHUNK));
    stored[HEADER_BYTES + SEALED + 1] = (stored[HEADER_BYTES + SEALED + 1] as number) ^ 0x80;
    await assert.rejects(decryptRange(stored, CHUNK, CHUNK + 10), DamagedObjectError);
  });

  it('an unknown key id is its own error; a non-object is damage', async () => {
    const other: DataKey = { id: 'gone', secret: randomBytes(32), createdAt: '2026-01-01T00:00:00Z' };
    await assert.rejects(decrypt(await encrypt(randomBytes(10), other)), (error: unknown) => error instanceof UnknownKeyError && error.keyId === 'gone');
    await assert.rejects(decrypt(Buffer.from('%PDF-1.7 definitely not ciphertext, just a plain file of some length here')), DamagedObjectError);
    assert.throws(() => plaintextSize(HEADER_BYTES + SEALED, CHUNK), DamagedObjectError);
  });
});
