// Canonicalization of object keys taken from a raw request path.
// The result is the ONE spelling used both to decide and to fetch; anything ambiguous is refused
// rather than "fixed", because a check on one spelling and a fetch of another is the classic bypass.
import { badRequest } from '../errors.js';
import type { CanonicalKey } from './types.js';

/** S3's own limit; fs stores are further bounded by the filesystem's name limits. */
export const MAX_KEY_BYTES = 1024;

/** Segment names reserved for Sluice's own files (upload temp dirs): never a key, in any route. */
export function isReservedSegment(segment: string): boolean {
  return segment.startsWith('.sluice');
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Parses the raw (still percent-encoded) key part of a path, e.g. `docs/caf%C3%A9.pdf`.
 * Throws PublicError(400) with a short reason for anything that is not a clean key.
 */
export function canonicalizeKey(rawKeyPath: string): CanonicalKey {
  if (rawKeyPath.length === 0) throw badRequest('empty key');
  const segments = rawKeyPath.split('/').map(decodeSegment);
  const value = segments.join('/');
  if (Buffer.byteLength(value, 'utf8') > MAX_KEY_BYTES) throw badRequest('key too long');
  return Object.freeze({ segments: Object.freeze(segments), value });
}

function decodeSegment(raw: string): string {
  if (raw.length === 0) throw badRequest('empty path segment');
  const decoded = strictPercentDecode(raw);
  if (decoded === '.' || decoded === '..') throw badRequest('dot segment in key');
  if (isReservedSegment(decoded)) throw badRequest('reserved key');
  if (decoded.includes('/')) throw badRequest('encoded slash in key');
  if (decoded.includes('\\')) throw badRequest('backslash in key');
  // C0 controls (incl. NUL), DEL and C1 controls never belong in a file name.
  if (/[\u0000-\u001f\u007f-\u009f]/.test(decoded)) throw badRequest('control character in key');
  return decoded;
}

/**
 * Percent-decodes with no leniency: every "%" must start a valid escape, and the bytes must be
 * well-formed UTF-8 (which rules out overlong forms such as %C0%AE and lone surrogates).
 */
function strictPercentDecode(raw: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const ch = raw.charCodeAt(i);
    if (ch === 0x25 /* % */) {
      const hex = raw.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw badRequest('invalid percent-encoding in key');
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (ch <= 0xff) {
      // Node hands raw request-line bytes over as latin1 characters: keep them as bytes, so an
      // unencoded UTF-8 name and its percent-encoded form give the same key.
      bytes.push(ch);
    } else {
      throw badRequest('invalid character in key');
    }
  }
  try {
    return strictUtf8.decode(Uint8Array.from(bytes));
  } catch {
    throw badRequest('invalid UTF-8 in key');
  }
}

/**
 * A key read back from Sluice's own records or a store listing, already canonical when it was
 * stored: split, not parsed again. fs writes still check its segments before using them.
 */
export function storedKey(value: string): CanonicalKey {
  return Object.freeze({ segments: Object.freeze(value.split('/')), value });
}
