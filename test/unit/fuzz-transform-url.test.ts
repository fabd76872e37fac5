// Property-based fuzzing of the transform option parsers: any path or query either parses or is
// refused with a PublicError 4xx — never a TypeError, a RangeError or a 5xx.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { transformSchema, type TransformConfig } from '../../src/config/transform-schema.js';
import { PublicError } from '../../src/errors.js';
import { parseImgproxyPath, parseNativeOptions } from '../../src/transform/url.js';

const RUNS = 2000;
const NOW = Date.UTC(2030, 0, 1);
const SIGNED: TransformConfig = transformSchema.parse({ enabled: true, keys: ['736563726574'], salts: ['68656C6C6F'], presets: { thumb: 'rs:fill:200:200' } });
const UNSIGNED: TransformConfig = transformSchema.parse({ enabled: true, unsafeUnsigned: true, presets: { thumb: 'rs:fill:200:200' } });

const NAMES = [
  'rs',
  'resize',
  's',
  'size',
  'w',
  'h',
  'width',
  'height',
  'g',
  'gravity',
  'c',
  'crop',
  'q',
  'quality',
  'f',
  'format',
  'bl',
  'blur',
  'sh',
  'sharpen',
  'rt',
  'rotate',
  'pr',
  'preset',
  'wm',
  'watermark',
  'bg',
  'background',
  'dpr',
  'ex',
  'el',
  'exp',
  'expires',
  'pd',
  'padding',
  'ar',
  'auto_rotate',
  'x',
];
const VALUES = [
  '',
  '0',
  '-1',
  '1',
  '200',
  '99999999999',
  '1e308',
  'NaN',
  'Infinity',
  '0x10',
  '1.5',
  'fit',
  'fill',
  'auto',
  'ce',
  'sm',
  'fp:0.5:2',
  'webp',
  'avif',
  'png',
  'jpg',
  'gif',
  'exe',
  't',
  'false',
  'ffffff',
  '%00',
  '..',
  '::::',
  'thumb',
  'nope',
];

const option = fc
  .tuple(fc.constantFrom(...NAMES), fc.array(fc.oneof(fc.constantFrom(...VALUES), fc.string({ maxLength: 8 })), { maxLength: 5 }))
  .map(([name, args]) => [name, ...args].join(':'));
const source = fc.oneof(
  fc.constantFrom(
    'plain/local:///a.jpg',
    'plain/local:///../etc/passwd',
    'plain/s3://b/k.png',
    'plain/http://x/y',
    'aGVsbG8',
    'plain/a.jpg@webp',
    'plain/local:///a%00.jpg',
    'plain/',
    '',
  ),
  fc.string({ maxLength: 40 }),
);
const signature = fc.constantFrom('unsafe', '_', 'insecure', 'AAAA', '');
const imgproxyPath = fc.tuple(signature, fc.array(option, { maxLength: 6 }), source).map(([sig, options, src]) => `/${[sig, ...options, src].join('/')}`);

function refusedPublicly(run: () => unknown, input: string): void {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof PublicError, `non-public ${String(error)} for ${JSON.stringify(input)}`);
    assert.ok(error.status >= 400 && error.status < 500, `status ${error.status} for ${JSON.stringify(input)}`);
  }
}

describe('fuzz: transform URL parsers', () => {
  it('parseImgproxyPath: parses or refuses with a 4xx PublicError (unsigned and signed mode)', () => {
    fc.assert(
      fc.property(fc.oneof(imgproxyPath, fc.string({ unit: 'binary', maxLength: 80 })), (path) => {
        refusedPublicly(() => parseImgproxyPath(path, UNSIGNED, NOW), path);
        refusedPublicly(() => parseImgproxyPath(path, SIGNED, NOW), path);
      }),
      { numRuns: RUNS },
    );
  });

  it('signed mode never accepts an unsigned path', () => {
    fc.assert(
      fc.property(imgproxyPath, (path) => {
        assert.throws(
          () => parseImgproxyPath(path, SIGNED, NOW),
          (e: unknown) => e instanceof PublicError && e.status >= 400 && e.status < 500,
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('parseNativeOptions: parses or refuses with a 4xx PublicError', () => {
    const pairs = fc.array(fc.tuple(fc.constantFrom(...NAMES), fc.oneof(fc.constantFrom(...VALUES), fc.string({ maxLength: 12 }))), { maxLength: 8 });
    fc.assert(
      fc.property(pairs, (entries) => {
        const query = new URLSearchParams(entries);
        refusedPublicly(() => parseNativeOptions(query, UNSIGNED, NOW), query.toString());
      }),
      { numRuns: RUNS },
    );
  });
});
