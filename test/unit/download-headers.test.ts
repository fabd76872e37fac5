import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contentTypeFor, downloadHeaders, isActiveContent, safeFileName, SANDBOX_CSP } from '../../src/http/download-headers.js';

const base = { attachment: false, cacheControl: 'private, no-store' };

describe('download headers', () => {
  it('types binary files without a charset and text as UTF-8', () => {
    assert.equal(contentTypeFor('x.png'), 'image/png');
    assert.equal(contentTypeFor('x.pdf'), 'application/pdf');
    assert.equal(contentTypeFor('no-extension'), 'application/octet-stream');
    assert.equal(downloadHeaders({ ...base, fileName: 'a.txt' })['Content-Type'], 'text/plain; charset=utf-8', 'text is UTF-8 by default');
  });

  it('serves inline by default and as attachment on request', () => {
    assert.match(downloadHeaders({ ...base, fileName: 'a.pdf' })['Content-Disposition'] as string, /^inline; filename="a.pdf"$/);
    assert.match(downloadHeaders({ ...base, attachment: true, fileName: 'a.pdf' })['Content-Disposition'] as string, /^attachment;/);
  });

  it('gives non-ASCII names an ASCII fallback and an RFC 5987 filename*', () => {
    const cd = downloadHeaders({ ...base, fileName: 'ü ñ 日本.pdf' })['Content-Disposition'] as string;
    assert.equal(cd, `inline; filename="u n __.pdf"; filename*=UTF-8''%C3%BC%20%C3%B1%20%E6%97%A5%E6%9C%AC.pdf`);
  });

  it('neutralizes quotes, backslashes, CR/LF, ";" and "," in file names', () => {
    assert.equal(safeFileName('a"b\\c\r\nd;e,f.txt'), 'a_b_c__d_e_f.txt');
    const cd = downloadHeaders({ ...base, fileName: 'evil";\r\nX: y.bat' })['Content-Disposition'] as string;
    assert.doesNotMatch(cd, /[\r\n]/);
    assert.equal(cd.split(';').length, 2, 'one parameter only: the name cannot inject another');
  });

  it('forces HTML, SVG and XML to attachment with a sandbox CSP', () => {
    for (const name of ['x.html', 'x.htm', 'x.svg', 'x.xml', 'x.xhtml', 'feed.atom']) {
      const headers = downloadHeaders({ ...base, fileName: name });
      assert.match(headers['Content-Disposition'] as string, /^attachment;/, name);
      assert.equal(headers['Content-Security-Policy'], SANDBOX_CSP, name);
    }
    assert.equal(downloadHeaders({ ...base, fileName: 'x.png' })['Content-Security-Policy'], undefined);
  });

  it('treats MHTML/e-mail, every XML type, scripts and other document types as active', () => {
    for (const name of [
      'x.mht',
      'x.mhtml',
      'x.eml',
      'x.xht',
      'x.xsl',
      'x.xslt',
      'x.xsd',
      'x.dtd',
      'x.rss',
      'x.kml',
      'x.mml',
      'x.js',
      'x.mjs',
      'x.htc',
      'x.wml',
      'x.swf',
      'x.wasm',
      'x.shtml',
    ]) {
      const headers = downloadHeaders({ ...base, fileName: name });
      assert.match(headers['Content-Disposition'] as string, /^attachment;/, name);
      assert.equal(headers['Content-Security-Policy'], SANDBOX_CSP, name);
    }
    for (const type of [
      'message/rfc822',
      'multipart/related',
      'multipart/x-mixed-replace',
      'text/xml',
      'application/xml',
      'application/xml-dtd',
      'image/svg+xml',
      'TEXT/HTML',
    ]) {
      assert.ok(isActiveContent(type), type);
    }
  });

  it('keeps PDF, text, JSON, CSS, images and media inline (inert as documents with nosniff)', () => {
    for (const name of ['x.pdf', 'x.txt', 'x.json', 'x.css', 'x.csv', 'x.md', 'x.png', 'x.jpg', 'x.webp', 'x.mp4', 'x.mp3']) {
      const headers = downloadHeaders({ ...base, fileName: name });
      assert.match(headers['Content-Disposition'] as string, /^inline;/, name);
      assert.equal(headers['Content-Security-Policy'], undefined, name);
      assert.equal(headers['X-Content-Type-Options'], 'nosniff', name);
    }
  });

  it('always sends nosniff and the store cache policy', () => {
    const headers = downloadHeaders({ ...base, fileName: 'x.bin', cacheControl: 'private, max-age=60' });
    assert.equal(headers['X-Content-Type-Options'], 'nosniff');
    assert.equal(headers['Cache-Control'], 'private, max-age=60');
  });
});
