// imgproxy semantics Sluice follows for drop-in use: filename decoding, raw, allowed sources,
// and the worker's raw pass-through typing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { transformSchema, type TransformConfig } from '../../src/config/transform-schema.js';
import { PublicError } from '../../src/errors.js';
import { signPath } from '../../src/transform/signature.js';
import { parseImgproxyPath } from '../../src/transform/url.js';
import { dispositionFor } from '../../src/worker/app.js';
import { sniffRaw } from '../../src/worker/transform/raw.js';

const KEY = '736563726574';
const SALT = '68656C6C6F';
const NOW = Date.UTC(2030, 0, 1);
const SIGNED: TransformConfig = transformSchema.parse({ enabled: true, keys: [KEY], salts: [SALT] });
const signed = (path: string): string => `/${signPath(path, KEY, SALT)}${path}`;
const parse = (path: string, config = SIGNED) => parseImgproxyPath(signed(path), config, NOW);

describe('imgproxy URL semantics', () => {
  it('percent-decodes filename: (a helper writes quote(name)); `:1` is base64', () => {
    assert.equal(parse('/filename:%C3%9Cbersicht%20Foto/plain/local:///a/file1').plan.filename, 'Übersicht Foto');
    assert.equal(parse(`/fn:${Buffer.from('Übersicht Foto').toString('base64url')}:1/plain/local:///a/file1`).plan.filename, 'Übersicht Foto');
    assert.equal(parse('/fn:a+b/plain/local:///a/file1').plan.filename, 'a+b', '+ stays a plus, as in Go');
    for (const bad of ['/fn:%ZZ/plain/local:///a', '/fn:%C3/plain/local:///a', '/fn:a%2Fb/plain/local:///a', '/fn:%0Aevil/plain/local:///a']) {
      assert.throws(
        () => parse(bad),
        (e: unknown) => e instanceof PublicError && e.status === 404,
        bad,
      );
    }
  });

  it('knows raw, and ignores the URL’s extension with it', () => {
    const { plan } = parse('/raw:1/plain/local:///a/file1@png');
    assert.deepEqual([plan.raw, plan.format], [true, null]);
    assert.equal(parse('/plain/local:///a/file1@png').plan.format, 'png');
  });

  it('refuses sources outside transform.allowedSources (IMGPROXY_ALLOWED_SOURCES)', () => {
    const config = transformSchema.parse({ enabled: true, keys: [KEY], salts: [SALT], allowedSources: ['local:///public/', 's3://media/*/thumbs/'] });
    assert.equal(parse('/plain/local:///public/a.jpg', config).source.kind, 'local');
    assert.equal(parse('/plain/s3://media/2024/thumbs/a.jpg', config).source.kind, 's3');
    for (const source of ['local:///private/a.jpg', 's3://media/2024/x/thumbs/a.jpg', 's3://other/a.jpg']) {
      assert.throws(
        () => parse(`/plain/${source}`, config),
        (e: unknown) => e instanceof PublicError && e.status === 404 && e.reason === 'source not allowed',
        source,
      );
    }
  });
});

describe('raw pass-through typing', () => {
  it('types by the bytes: raster images inline, SVG and anything unknown as attachments', () => {
    const png = sniffRaw(Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'));
    assert.deepEqual([png.contentType, png.extension, png.attachmentOnly], ['image/png', 'png', false]);
    const svg = sniffRaw(Buffer.from('\uFEFF<?xml version="1.0"?>\n<!-- x -->\n<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>'));
    assert.deepEqual([svg.contentType, svg.extension, svg.attachmentOnly], ['image/svg+xml', 'svg', true]);
    const html = sniffRaw(Buffer.from('<!doctype html><script>alert(1)</script>'));
    assert.deepEqual([html.contentType, html.extension, html.attachmentOnly], ['application/octet-stream', null, true]);
    assert.equal(dispositionFor({ stem: 'page', attachment: false }, html), 'attachment; filename="page"');
    assert.equal(
      dispositionFor({ stem: 'Übersicht "x"', attachment: false }, png),
      `inline; filename="Ubersicht _x_.png"; filename*=UTF-8''%C3%9Cbersicht%20_x_.png`,
    );
  });
});
