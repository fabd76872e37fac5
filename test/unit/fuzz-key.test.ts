// Property-based fuzzing of the key canonicalizer: whatever bytes arrive, the result is either a
// clean key (no dot, empty, slash, backslash or control segment; decoded exactly once) or a 400.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { PublicError } from '../../src/errors.js';
import { canonicalizeKey, MAX_KEY_BYTES } from '../../src/storage/key.js';

const RUNS = 3000;

/** Building blocks of real attacks, mixed with arbitrary text. */
const ATTACK_PIECES = [
  '..',
  '.',
  '%2e',
  '%2E',
  '%252e',
  '%2f',
  '%2F',
  '%252f',
  '%5c',
  '%5C',
  '\\',
  '%00',
  '%0a',
  '%0d',
  '%c0%ae',
  '%c0%af',
  '%e0%80%ae',
  ';',
  '..;',
  '%3b',
  '/',
  '//',
  '%',
  '%zz',
  '%c3',
  '%c3%a9',
  'é',
  '\u0301',
  '\uff0e',
  '\uff0f',
  '\u2215',
  'a',
  'file.txt',
];

const rawPath = fc.oneof(
  fc.array(fc.constantFrom(...ATTACK_PIECES), { minLength: 1, maxLength: 12 }).map((p) => p.join('')),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 64 }),
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 64 }),
);

/** Lone surrogates are not text (encodeURIComponent refuses them too). */
function wellFormed(s: string): boolean {
  try {
    encodeURIComponent(s);
    return true;
  } catch {
    return false;
  }
}

/** A valid file name: any Unicode text except the characters and shapes the parser refuses. */
const validSegment = fc
  .string({ unit: 'binary', minLength: 1, maxLength: 20 })
  .filter((s) => s !== '.' && s !== '..' && !/[/\\\u0000-\u001f\u007f-\u009f]/.test(s) && wellFormed(s));

function outcome(raw: string): { key?: ReturnType<typeof canonicalizeKey>; error?: unknown } {
  try {
    return { key: canonicalizeKey(raw) };
  } catch (error) {
    return { error };
  }
}

describe('fuzz: canonicalizeKey', () => {
  it('returns a clean key or throws PublicError 400 — nothing else', () => {
    fc.assert(
      fc.property(rawPath, (raw) => {
        const { key, error } = outcome(raw);
        if (key === undefined) {
          assert.ok(error instanceof PublicError, `non-public error for ${JSON.stringify(raw)}`);
          assert.equal(error.status, 400);
          return;
        }
        assert.ok(key.segments.length > 0);
        assert.equal(key.value, key.segments.join('/'));
        assert.ok(Buffer.byteLength(key.value) <= MAX_KEY_BYTES);
        for (const segment of key.segments) {
          assert.ok(segment !== '' && segment !== '.' && segment !== '..', `bad segment ${JSON.stringify(segment)}`);
          assert.doesNotMatch(segment, /[/\\\u0000-\u001f\u007f-\u009f]/);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('decodes exactly once: an encoded "%" stays a literal "%"', () => {
    fc.assert(
      fc.property(fc.array(validSegment, { minLength: 1, maxLength: 5 }), (segments) => {
        const once = segments.map(encodeURIComponent).join('/');
        const twice = segments.map((s) => encodeURIComponent(encodeURIComponent(s))).join('/');
        const key = canonicalizeKey(twice);
        assert.equal(key.value, once);
        assert.deepEqual(key.segments, segments.map(encodeURIComponent));
      }),
      { numRuns: RUNS },
    );
  });

  it('encodeURIComponent → canonicalize is the identity for valid names', () => {
    fc.assert(
      fc.property(fc.array(validSegment, { minLength: 1, maxLength: 6 }), (segments) => {
        fc.pre(Buffer.byteLength(segments.join('/')) <= MAX_KEY_BYTES);
        const key = canonicalizeKey(segments.map(encodeURIComponent).join('/'));
        assert.deepEqual(key.segments, segments);
        assert.equal(key.value, segments.join('/'));
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses every overlong, NUL, dot, slash and backslash spelling', () => {
    const refused = [
      '%c0%ae%c0%ae/x',
      '%c0%af',
      '%e0%80%ae',
      'a%00b',
      '%2e%2e/x',
      '%2E',
      'a%2fb',
      'a%5cb',
      'a\\b',
      '..',
      'a//b',
      '/a',
      'a/',
      '%',
      '%2',
      '%g0',
      '%ed%a0%80',
    ];
    for (const raw of refused) {
      assert.throws(
        () => canonicalizeKey(raw),
        (e: unknown) => e instanceof PublicError && e.status === 400,
        raw,
      );
    }
  });
});
