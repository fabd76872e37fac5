import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { transformSchema, type TransformConfig } from '../../src/config/transform-schema.js';
import { PublicError } from '../../src/errors.js';
import { canonicalPlan, type ParsedTransformRequest } from '../../src/transform/plan.js';
import { signPath } from '../../src/transform/signature.js';
import { parseImgproxyPath, parseNativeOptions } from '../../src/transform/url.js';

const KEY = '736563726574';
const SALT = '68656C6C6F';
const NOW = Date.UTC(2030, 0, 1);
const SIGNED: TransformConfig = transformSchema.parse({
  enabled: true,
  keys: [KEY],
  salts: [SALT],
  presets: { thumb: 'rs:fill:200:200/q:70', mark: 'wm:0.3:sowe' },
});
const UNSIGNED: TransformConfig = transformSchema.parse({ enabled: true, unsafeUnsigned: true });

const signed = (path: string, settings = SIGNED): string => `/${signPath(path, KEY, SALT, settings.signatureSize)}${path}`;
const parse = (path: string, settings = SIGNED): ParsedTransformRequest => parseImgproxyPath(path, settings, NOW);

function refused(path: string, status: number, reason: string, settings = SIGNED): void {
  assert.throws(
    () => parse(path, settings),
    (error: unknown) => error instanceof PublicError && error.status === status && error.reason === reason,
    `expected ${path} → ${status} ${reason}`,
  );
}

describe('imgproxy URLs: signatures', () => {
  it('accepts a correctly signed URL and ignores the (unsigned) query string', () => {
    const path = signed('/rs:fit:400:300/plain/local:///photos/a.jpg');
    assert.deepEqual(parse(path).source, { kind: 'local', path: 'photos/a.jpg' });
    assert.equal(parse(`${path}?w=1`).plan.width, 400);
  });

  it('refuses tampered, missing and "unsafe" signatures with 403 when keys are set', () => {
    const path = signed('/rs:fit:400:300/plain/local:///photos/a.jpg');
    refused(path.replace('400', '401'), 403, 'invalid signature');
    refused('/unsafe/rs:fit:400:300/plain/local:///photos/a.jpg', 403, 'invalid signature');
    refused('/_/plain/local:///photos/a.jpg', 403, 'invalid signature');
  });

  it('accepts any signature only in unsafeUnsigned mode without keys', () => {
    assert.equal(parse('/anything/w:5/plain/local:///a.jpg', UNSIGNED).plan.width, 5);
    const keyless = transformSchema.parse({ enabled: false });
    refused('/unsafe/plain/local:///a.jpg', 403, 'invalid signature', keyless);
  });

  it('honours a truncated signature size', () => {
    const short = transformSchema.parse({ enabled: true, keys: [KEY], salts: [SALT], signatureSize: 8 });
    const path = signed('/w:10/plain/local:///a.jpg', short);
    assert.equal(path.split('/')[1]?.length, 11);
    assert.equal(parse(path, short).plan.width, 10);
  });

  it('re-normalizes what proxies do before checking the signature', () => {
    const original = '/rs:fit:300:300/plain/local:///photos/a.jpg';
    const signature = signPath(original, KEY, SALT);
    const mangled = `/${signature}/rs%3Afit%3a300%3A300/plain/local:/photos/a.jpg`;
    assert.deepEqual(parse(mangled).source, { kind: 'local', path: 'photos/a.jpg' });
    const s3 = `/${signPath('/plain/s3://bucket/k.png', KEY, SALT)}/plain/s3:/bucket/k.png`;
    assert.deepEqual(parse(s3).source, { kind: 's3', bucket: 'bucket', key: 'k.png' });
  });

  it('checks the signature over the raw bytes of unencoded non-ASCII paths', () => {
    const path = '/w:10/plain/local:///café.jpg';
    const asNodeDeliversIt = Buffer.from(signed(path), 'utf8').toString('latin1');
    assert.deepEqual(parse(asNodeDeliversIt).source, { kind: 'local', path: 'café.jpg' });
  });

  it('refuses paths with no source', () => {
    refused(signed('/rs:fit:300:300'), 404, 'invalid URL');
    refused('/', 404, 'invalid URL');
    refused('', 404, 'invalid URL');
  });
});

describe('imgproxy URLs: sources', () => {
  it('decodes base64 sources split over segments, with the extension as format', () => {
    const encoded = Buffer.from('local:///photos/a.jpg').toString('base64url');
    const parsed = parse(signed(`/rs:fit:300:300/${encoded.slice(0, 10)}/${encoded.slice(10)}.webp`));
    assert.deepEqual(parsed.source, { kind: 'local', path: 'photos/a.jpg' });
    assert.equal(parsed.plan.format, 'webp');
    const padded = Buffer.from('local:///b.png').toString('base64');
    assert.deepEqual(parse(signed(`/${padded}`)).source, { kind: 'local', path: 'b.png' }, 'trailing "=" is trimmed');
  });

  it('decodes the imgproxy documentation’s base64 source (and refuses it: http is not a Sluice source)', () => {
    const path = '/rs:fill:300:400:0/g:sm/aHR0cDovL2V4YW1w/bGUuY29tL2ltYWdl/cy9jdXJpb3NpdHku/anBn.png';
    const docs = transformSchema.parse({ enabled: true, keys: [KEY], salts: [SALT] });
    refused(`/oKfUtW34Dvo2BGQehJFR4Nr0_rIjOtdtzJ3QFsUcXH8${path}`, 404, 'source not allowed', docs);
  });

  it('percent-decodes plain sources, then decodes the URL path once', () => {
    assert.deepEqual(parse(signed('/plain/local%3A%2F%2F%2Fphotos%2Fcaf%25C3%25A9%20au%20lait.jpg')).source, {
      kind: 'local',
      path: 'photos/café au lait.jpg',
    });
    assert.deepEqual(parse(signed('/plain/local:///photos/caf%C3%A9.jpg@png')).source, { kind: 'local', path: 'photos/café.jpg' });
    assert.deepEqual(parse(signed('/plain/s3://my-bucket/a/b%20c.png')).source, { kind: 's3', bucket: 'my-bucket', key: 'a/b c.png' });
  });

  it('refuses traversal and unclean paths, however they are encoded', () => {
    for (const source of [
      'local:///../etc/passwd',
      'local:///a/%2E%2E/b',
      'local:///a/%252E%252E/b',
      'local:///a//b',
      'local:///a/%2500',
      'local:///a%252Fb',
      'local:///',
    ]) {
      refused(signed(`/plain/${source}`), 404, 'invalid URL');
    }
  });

  it('refuses sources that are neither local:/// nor s3://', () => {
    for (const source of [
      'http://example.com/a.jpg',
      'https://example.com/a.jpg',
      'file:///etc/passwd',
      'local://host/a.jpg',
      's3://bucket-only',
      'ftp://x/y',
    ]) {
      refused(signed(`/plain/${source}`), 404, 'source not allowed');
    }
  });

  it('refuses malformed sources', () => {
    refused(signed('/plain/local:///a.jpg@png@webp'), 404, 'invalid URL');
    refused(signed('/plain/@png'), 404, 'invalid URL');
    refused(signed('/plain/local:///a%zz.jpg'), 404, 'invalid URL');
    refused(signed('/bG9jYWw6Ly8vYS5qcGc.png.webp'), 404, 'invalid URL');
    refused(signed('/bG9j*YWw6.png'), 404, 'invalid URL');
    refused(signed('/plain/local:///a.jpg@tiff'), 404, 'invalid option format');
  });
});

describe('presets and modes', () => {
  it('only-presets mode reads the first segment as preset names', () => {
    const settings = transformSchema.parse({ enabled: true, unsafeUnsigned: true, onlyPresets: true, presets: { thumb: 'rs:fill:200:200', mark: 'wm:0.3' } });
    const p = parse('/unsafe/thumb:mark/plain/local:///a.jpg', settings).plan;
    assert.deepEqual([p.width, p.watermark?.opacity], [200, 0.3]);
    assert.equal(parse('/unsafe/pr:thumb/plain/local:///a.jpg', settings).plan.width, 200);
    refused('/unsafe/rs:fit:10:10/plain/local:///a.jpg', 404, 'invalid option preset', settings);
  });

  it('skips a preset that is already being expanded instead of recursing', () => {
    // configuration validation refuses such presets; the parser must survive them anyway
    const settings = { ...UNSIGNED, presets: { loop: 'q:40/pr:loop/w:7' } } as TransformConfig;
    const p = parse('/unsafe/pr:loop/plain/local:///a.jpg', settings).plan;
    assert.deepEqual([p.quality, p.width], [40, 7]);
  });
});

describe('the Sluice-native form', () => {
  it('reads each query parameter as one option, through the same table and presets', () => {
    const p = parseNativeOptions(new URLSearchParams('rs=fit:400:300&q=80&f=webp&pr=mark'), SIGNED, NOW);
    assert.deepEqual([p.resizingType, p.width, p.height, p.quality, p.format, p.watermark?.position], ['fit', 400, 300, 80, 'webp', 'sowe']);
  });

  it('gives the same canonical plan as the equivalent imgproxy URL', () => {
    const native = parseNativeOptions(new URLSearchParams('w=400&h=300&pr=thumb&q=55'), SIGNED, NOW);
    const imgproxy = parse(signed('/rs:fit:400:300/pr:thumb/q:55/plain/local:///a.jpg')).plan;
    assert.equal(canonicalPlan(native), canonicalPlan(imgproxy));
  });

  it('applies the same refusals', () => {
    const refusedNative = (query: string, reason: string, settings = SIGNED): void =>
      assert.throws(
        () => parseNativeOptions(new URLSearchParams(query), settings, NOW),
        (error: unknown) => error instanceof PublicError && error.status === 404 && error.reason === reason,
      );
    refusedNative('foo=1', 'invalid option foo');
    refusedNative('rot=45', 'invalid option rotate');
    refusedNative(`exp=${NOW / 1000 - 1}`, 'Expired URL');
    refusedNative('w=100', 'invalid option w', transformSchema.parse({ allowedOptions: ['rs'] }));
    refusedNative('w=100', 'invalid option w', transformSchema.parse({ onlyPresets: true, presets: { thumb: 'w:1' } }));
    assert.equal(parseNativeOptions(new URLSearchParams('pr=thumb'), transformSchema.parse({ onlyPresets: true, presets: { thumb: 'w:1' } }), NOW).width, 1);
  });
});
