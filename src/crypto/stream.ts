// Streaming encryption and decryption in the object format of ./format.ts. Memory per stream is
// about two chunks, whatever the object's size.
import { Transform, type TransformCallback } from 'node:stream';
import {
  associatedData,
  createHeader,
  DamagedObjectError,
  HEADER_BYTES,
  objectKey,
  openChunk,
  parseHeader,
  sealChunk,
  TAG_BYTES,
  type ObjectHeader,
} from './format.js';
import { UnknownKeyError, type DataKey, type KeyLookup } from './keys.js';

/**
 * Plaintext in; header and sealed chunks out. `name` is the key the object will be stored under
 * ('' for a loose file): it must be given again to decrypt.
 */
export function encryptStream(dataKey: DataKey, chunkSize: number, name: string): Transform {
  const header = createHeader(dataKey.id, chunkSize);
  const key = objectKey(dataKey, header);
  const aad = associatedData(header, name);
  const pending = Buffer.alloc(chunkSize);
  let filled = 0;
  let index = 0;
  let started = false;
  const start = (stream: Transform): void => {
    if (started) return;
    started = true;
    stream.push(header.raw);
  };
  return new Transform({
    transform(data: Buffer, _encoding, callback: TransformCallback) {
      start(this);
      let offset = 0;
      while (offset < data.length) {
        const taken = data.copy(pending, filled, offset, Math.min(data.length, offset + chunkSize - filled));
        filled += taken;
        offset += taken;
        if (filled === chunkSize) {
          for (const part of sealChunk(key, aad, index++, false, pending)) this.push(part);
          filled = 0;
        }
      }
      callback();
    },
    flush(callback: TransformCallback) {
      start(this);
      for (const part of sealChunk(key, aad, index, true, pending.subarray(0, filled))) this.push(part);
      callback();
    },
  });
}

export interface ChunkReaderOptions {
  readonly header: ObjectHeader;
  readonly key: Buffer;
  /** The name the object is stored under ('' for a loose file), as it was encrypted. */
  readonly name: string;
  /** Index of the first chunk in the input. */
  readonly firstChunk: number;
  /** The object's final chunk; undefined = whatever chunk ends the input. */
  readonly finalChunk?: number;
  /** Plaintext bytes to drop at the start and to emit in all (Range reads). */
  readonly skip?: number;
  readonly length?: number;
}

/**
 * Sealed chunks in (starting at `firstChunk`), verified plaintext out. A chunk is emitted only
 * after its tag verified; any failure — including input that ends early — is a DamagedObjectError.
 */
export function decryptChunks(options: ChunkReaderOptions): Transform {
  let opener: ChunkOpener;
  return new Transform({
    construct(callback) {
      opener = new ChunkOpener(options, (plain) => this.push(plain));
      callback();
    },
    transform(data: Buffer, _encoding, callback: TransformCallback) {
      guarded(callback, () => opener.consume(data));
    },
    flush(callback: TransformCallback) {
      guarded(callback, () => opener.finish());
    },
  });
}

function guarded(callback: TransformCallback, step: () => void): void {
  try {
    step();
    callback();
  } catch (error) {
    callback(error as Error);
  }
}

/** A whole stored object (header first) stored under `name` in, its plaintext out. */
export function decryptStream(lookup: KeyLookup, name: string): Transform {
  let header: Buffer[] | null = [];
  let headerLength = 0;
  let opener: ChunkOpener | null = null;
  return new Transform({
    transform(data: Buffer, _encoding, callback: TransformCallback) {
      guarded(callback, () => {
        if (header === null) return (opener as ChunkOpener).consume(data);
        header.push(data);
        headerLength += data.length;
        if (headerLength < HEADER_BYTES) return;
        const all = Buffer.concat(header);
        header = null;
        const parsed = parseHeader(all);
        const dataKey = lookup(parsed.keyId);
        if (dataKey === undefined) throw new UnknownKeyError(parsed.keyId);
        opener = new ChunkOpener({ header: parsed, key: objectKey(dataKey, parsed), name, firstChunk: 0 }, (plain) => this.push(plain));
        opener.consume(all.subarray(HEADER_BYTES));
      });
    },
    flush(callback: TransformCallback) {
      guarded(callback, () => {
        if (opener === null) throw new DamagedObjectError('encrypted object is shorter than its header', 'size');
        opener.finish();
      });
    },
  });
}

class ChunkOpener {
  private readonly sealedSize: number;
  private readonly aad: Buffer;
  private readonly parts: Buffer[] = [];
  private buffered = 0;
  private index: number;
  private toSkip: number;
  private remaining: number;

  constructor(
    private readonly options: ChunkReaderOptions,
    private readonly emit: (plain: Buffer) => void,
  ) {
    this.sealedSize = options.header.chunkSize + TAG_BYTES;
    this.aad = associatedData(options.header, options.name);
    this.index = options.firstChunk;
    this.toSkip = options.skip ?? 0;
    this.remaining = options.length ?? Number.POSITIVE_INFINITY;
  }

  /** Opens every chunk known not to be the last one in the input. */
  consume(data: Buffer): void {
    if (data.length === 0) return;
    this.parts.push(data);
    this.buffered += data.length;
    if (this.buffered <= this.sealedSize) return;
    const all = this.parts.length === 1 ? data : Buffer.concat(this.parts, this.buffered);
    let offset = 0;
    // More bytes follow this chunk, so it cannot be the final one.
    while (this.buffered - offset > this.sealedSize) {
      if (this.index === this.options.finalChunk) throw new DamagedObjectError('data after the final chunk', 'trailing_data', this.index);
      this.open(all.subarray(offset, offset + this.sealedSize), false);
      offset += this.sealedSize;
    }
    this.parts.length = 0;
    this.parts.push(all.subarray(offset));
    this.buffered -= offset;
  }

  /** The input ended: its last chunk is final unless the range stops before the object's end. */
  finish(): void {
    const last = Buffer.concat(this.parts, this.buffered);
    const final = this.options.finalChunk === undefined || this.index === this.options.finalChunk;
    if (!final && last.length !== this.sealedSize) throw new DamagedObjectError('encrypted object ended early', 'truncated', this.index);
    this.open(last, final);
    if (this.options.length !== undefined && this.remaining > 0) throw new DamagedObjectError('encrypted object ended early', 'truncated', this.index);
  }

  private open(sealed: Buffer, final: boolean): void {
    let plain = openChunk(this.options.key, this.aad, this.index++, final, sealed);
    if (this.toSkip > 0) {
      const dropped = Math.min(this.toSkip, plain.length);
      plain = plain.subarray(dropped);
      this.toSkip -= dropped;
    }
    if (plain.length > this.remaining) plain = plain.subarray(0, this.remaining);
    this.remaining -= plain.length;
    if (plain.length > 0) this.emit(plain);
  }
}
