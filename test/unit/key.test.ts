import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PublicError } from '../../src/errors.js';
import { canonicalizeKey, MAX_KEY_BYTES } from '../../src/storage/key.js';
import { rawPathOf } from '../../src/http/request-target.js';

function rejects(raw: string, reason: RegExp): void {
  assert.throws(
    () => canonicalizeKey(raw),
    (error: unknown) => error instanceof PublicError && error.status === 400 && reason.test(error.reason),
    `expected ${JSON.stringify(raw)} to be refused with ${String(reason)}`,
  );
}

describe('key canonicalization', () => {
  it('decodes each segment once and keeps the exact bytes', () => {
    const key = canonicalizeKey('a%20b/%C3%BC%20%C3%B1%20%E6%97%A5%E6%9C%AC.pdf');
    assert.deepEqual(key.segments, ['a b', 'ü ñ 日本.pdf']);
    assert.equal(key.value, 'a b/ü ñ 日本.pdf');
  });

  it('keeps NFC and NFD spellings distinct (no normalization: what is checked is what is fetched)', () => {
    const nfc = canonicalizeKey(encodeURIComponent('ü.pdf'.normalize('NFC')));
    const nfd = canonicalizeKey(encodeURIComponent('ü.pdf'.normalize('NFD')));
    assert.notEqual(nfc.value, nfd.value);
    assert.equal(nfd.value, 'ü.pdf'.normalize('NFD'));
  });

  it('accepts the reserved characters users put in file names', () => {
    for (const name of ['a+b', '100%', 'x#y', 'what?', 'a&b=c', 'semi;colon', "*()!'", '~tilde,comma']) {
      assert.equal(canonicalizeKey(encodeURIComponent(name)).value, name);
    }
    assert.equal(canonicalizeKey('a+b;c=d&e').value, 'a+b;c=d&e', 'unencoded sub-delims stay literal');
  });

  it('treats raw UTF-8 bytes (latin1 from the HTTP parser) like their percent-encoded form', () => {
    const raw = Buffer.from('ü.txt', 'utf8').toString('latin1');
    assert.equal(canonicalizeKey(raw).value, 'ü.txt');
  });

  it('refuses dot segments in every spelling', () => {
    for (const raw of ['..', 'a/../b', '.', 'a/./b', '%2e%2e/x', '%2E%2E', 'a/%2e', '.%2e/x']) rejects(raw, /dot segment/);
  });

  it('refuses double encoding by decoding exactly once (%252e stays a literal "%2e")', () => {
    assert.equal(canonicalizeKey('%252e%252e/x').value, '%2e%2e/x');
  });

  it('refuses encoded slashes and backslashes', () => {
    rejects('a%2fb', /encoded slash/);
    rejects('a%2Fb', /encoded slash/);
    rejects('..%2fsecret', /encoded slash/);
    rejects('a\\b', /backslash/);
    rejects('a%5cb', /backslash/);
    rejects('..%5c..%5cwin.ini', /backslash/);
  });

  it('refuses empty segments (leading, trailing and double slashes)', () => {
    for (const raw of ['', '/a', 'a/', 'a//b', '/']) rejects(raw, /empty/);
  });

  it('refuses NUL and control characters', () => {
    for (const raw of ['a%00b', 'a%0d%0aSet-Cookie:x', 'a%7f', 'a%c2%85', 'tab%09']) rejects(raw, /control character/);
  });

  it('refuses a raw "#" in a request-target (nginx ends $uri there); "%23" stays a name character', () => {
    for (const target of ['/files/d/a#', '/files/d/a#x', '/files/d/b.txt#?x', '/files/d/a/#/b?share=1']) {
      assert.throws(
        () => rawPathOf(target),
        (error: unknown) => error instanceof PublicError && error.status === 400 && /raw #/.test(error.reason),
        target,
      );
    }
    assert.equal(rawPathOf('/files/d/a%23b?x=#'), '/files/d/a%23b');
    assert.equal(canonicalizeKey('a%23b').value, 'a#b');
  });

  it('refuses malformed percent-encoding', () => {
    for (const raw of ['a%', 'a%2', 'a%zz', '%g0']) rejects(raw, /percent-encoding/);
  });

  it('refuses invalid and overlong UTF-8', () => {
    for (const raw of ['%c0%ae%c0%ae/x', '%c0%af', '%e0%80%ae', '%ff', '%ed%a0%80', '%c3']) rejects(raw, /UTF-8/);
  });

  it('refuses segments reserved for Sluice itself (upload temp dirs), in every spelling', () => {
    for (const raw of ['.sluice-upload-tmp/x', 'a/.sluice-upload-tmp/x', '%2esluice-upload-tmp/x', '.sluice']) rejects(raw, /reserved key/);
    assert.equal(canonicalizeKey('a/sluice/.hidden').value, 'a/sluice/.hidden', 'other dot files are ordinary names');
  });

  it('keeps ";" path parameters literal, so "..;" is a name, never a parent directory', () => {
    assert.deepEqual(canonicalizeKey('..;/x').segments, ['..;', 'x']);
  });

  it('keeps fullwidth look-alikes as distinct names', () => {
    assert.equal(canonicalizeKey(`${encodeURIComponent('．．')}/x`).segments[0], '．．');
  });

  it(`limits keys to ${MAX_KEY_BYTES} bytes`, () => {
    const ok = Array.from({ length: 4 }, () => 'k'.repeat(250)).join('/');
    assert.equal(canonicalizeKey(ok).value.length, 1003);
    rejects(`${ok}/${'x'.repeat(30)}`, /too long/);
  });
});
