// Findings of an outside review, replayed through real nginx (with Debian's mime.types included,
// as operators run it) and a real, signature-checking S3 server (Swift s3api):
//   4  stored XSS through the documented /protected (auth_request) snippet
//   8  storage error documents (XML with request ids) reaching the client on 412/416
//   9  range amplification: many tiny ranges → a multipart body larger than the file
//   10 one `host` setting exposing the app port along with nginx's
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { renderProtectedLocation } from '../../src/nginx/render-auth-request.js';
import { request, type RawResponse } from '../helpers/http.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { startSwiftS3, s3ClientFor, type S3TestServer } from '../helpers/swift.js';
import { bearer, testAuthConfig } from '../helpers/tokens.js';

const LINK_SECRET = 'attack-nginx-link-secret-0123456789abcdef';
const SCRIPT = '<script>document.title = document.cookie</script>';
/** Files a browser would run as a page on this origin if served inline, by name. */
const ACTIVE_FILES: Record<string, string> = {
  'page.html': `<!doctype html>${SCRIPT}`,
  'page.htm': `<!doctype html>${SCRIPT}`,
  'image.svg': `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.domain)</script></svg>`,
  'page.xhtml': `<html xmlns="http://www.w3.org/1999/xhtml"><body>${SCRIPT}</body></html>`,
  'data.xml': `<?xml version="1.0"?><x:script xmlns:x="http://www.w3.org/1999/xhtml">alert(1)</x:script>`,
  'archive.mht': `MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary="b"\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n${SCRIPT}\r\n--b--\r\n`,
  'archive.mhtml': `MIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n${SCRIPT}\r\n`,
  'code.js': 'alert(document.cookie)',
};
const INERT_FILES: Record<string, string> = {
  'note.txt': `plain text that merely mentions ${SCRIPT}`,
  'scan.pdf': '%PDF-1.4 fake',
  'pixel.png': '\x89PNG\r\n\x1a\n fake',
};
/** 4 KiB with distinct bytes, so any part of it is recognizable. */
const RANGE_FILE = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 251));
const BUCKET = 'media';
const JSON_TYPE = /^application\/json(; charset=utf-8)?$/;

let s3: S3TestServer;
let stack: Stack;
let base: string;
let alice: Record<string, string>;

function manyRanges(count: number): string {
  return `bytes=${Array.from({ length: count }, (_, i) => `${i * 2}-${i * 2}`).join(',')}`;
}

/** How often a header was sent (Node's parsed headers hide duplicate Content-Types). */
function countHeader(res: RawResponse, name: string): number {
  return (res.rawHeaders ?? []).filter((value, index) => index % 2 === 0 && value.toLowerCase() === name.toLowerCase()).length;
}

function assertNoPrivateHeaders(res: RawResponse, label: string): void {
  assert.doesNotMatch(
    JSON.stringify(res.rawHeaders ?? res.headers),
    /x-sluice|x-amz|x-trans-id|x-openstack|X-Accel/i,
    `${label}: a private or storage header leaked`,
  );
}

function assertShortJsonError(res: RawResponse, status: number, reason: string, label: string): void {
  assert.equal(res.status, status, `${label}: ${res.text()}`);
  assert.equal(countHeader(res, 'Content-Type'), 1, `${label}: one Content-Type`);
  // The app's own JSON errors say "application/json; charset=utf-8" (Koa); nginx's may carry it too.
  assert.match(String(res.headers['content-type']), JSON_TYPE, label);
  assert.deepEqual(res.json(), { error: reason }, label);
  assert.equal(res.headers['content-disposition'], undefined, `${label}: an error is never a download`);
  assert.equal(res.headers['x-content-type-options'], 'nosniff', label);
  assert.doesNotMatch(res.text(), /<\?xml|RequestId|<Error>|\btx[0-9a-f]{8}/, `${label}: storage's error document leaked`);
  assertNoPrivateHeaders(res, label);
}

before(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'sluice-attack-nginx-'));
  await chmod(base, 0o755);
  const root = path.join(base, 'docs');
  await mkdir(root, { recursive: true });
  for (const [name, content] of Object.entries({ ...ACTIVE_FILES, ...INERT_FILES })) await writeFile(path.join(root, name), content, 'latin1');
  await writeFile(path.join(root, 'range.bin'), RANGE_FILE);

  s3 = await startSwiftS3();
  const client = s3ClientFor(s3);
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'range.bin', Body: RANGE_FILE }));
  const s3Store = { type: 's3', bucket: BUCKET, endpoint: s3.endpoint, forcePathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey };

  stack = await startStack(
    {
      stores: {
        docs: { type: 'fs', root },
        streamed: { type: 'fs', root, delivery: 'stream' },
        media: s3Store,
        forged: { ...s3Store, secretAccessKey: 'not-the-secret' },
      },
      auth: testAuthConfig,
      rules: [{ id: 'readers', key: '*rest', actions: ['read', 'head', 'share'], when: [{ authenticated: true }] }],
      sharing: { keys: [{ kid: 'k1', secret: LINK_SECRET }], authRequest: { locations: { '/protected': 'docs' } } },
    },
    { extraServerConfig: renderProtectedLocation({ path: '/protected', root, internalPrefix: '/_sluice' }), mimeTypes: true },
  );
  alice = await bearer('alice');
});

after(async () => {
  await stack?.stop();
  await s3?.stop();
  if (base !== undefined) await rm(base, { recursive: true, force: true });
});

async function shareLink(key: string): Promise<string> {
  const minted = await fetch(`http://127.0.0.1:${stack.port}/files/_share`, {
    method: 'POST',
    headers: { ...alice, 'Content-Type': 'application/json' },
    body: JSON.stringify({ store: 'docs', key, expiresIn: 60 }),
  });
  assert.equal(minted.status, 201, await minted.clone().text());
  return ((await minted.json()) as { token: string }).token;
}

/** The headers the client sees that describe and guard a download. */
function downloadHeadersOf(res: RawResponse): Record<string, unknown> {
  const { headers } = res;
  return {
    type: headers['content-type'],
    disposition: headers['content-disposition'],
    csp: headers['content-security-policy'],
    nosniff: headers['x-content-type-options'],
    cache: headers['cache-control'],
  };
}

describe('finding 4: active content through the /protected (auth_request) location', () => {
  it('a visitor with a share link gets HTML, SVG, XHTML, XML, MHTML and JS as sandboxed attachments', async () => {
    for (const [name, content] of Object.entries(ACTIVE_FILES)) {
      const token = await shareLink(name);
      const res = await request(stack.port, `/protected/${name}?share=${token}`);
      assert.equal(res.status, 200, `${name}: ${res.text()}`);
      assert.equal(res.body.toString('latin1'), content, name);
      assert.equal(countHeader(res, 'Content-Type'), 1, `${name}: one Content-Type, the app's`);
      assert.match(String(res.headers['content-disposition']), /^attachment;/, name);
      assert.match(String(res.headers['content-security-policy']), /\bsandbox\b/, name);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', name);
      assertNoPrivateHeaders(res, name);
    }
  });

  it('sends exactly the headers the download route sends, whatever mime.types says', async () => {
    for (const name of [...Object.keys(ACTIVE_FILES), ...Object.keys(INERT_FILES)]) {
      for (const query of ['', '?download=1']) {
        const viaNginx = await request(stack.port, `/protected/${name}${query}`, { headers: alice });
        const viaApp = await request(stack.port, `/files/docs/${name}${query}`, { headers: alice });
        assert.equal(viaNginx.status, 200, name);
        assert.equal(viaApp.status, 200, name);
        assert.deepEqual(downloadHeadersOf(viaNginx), downloadHeadersOf(viaApp), `${name}${query}`);
        assert.equal(countHeader(viaNginx, 'Content-Type'), 1, name);
        assert.equal(countHeader(viaNginx, 'Content-Disposition'), 1, name);
      }
    }
    // mime.types would say "text/plain" (no charset) and "text/html" (inline): the app's type won.
    const text = await request(stack.port, '/protected/note.txt', { headers: alice });
    assert.equal(text.headers['content-type'], 'text/plain; charset=utf-8');
    assert.match(String(text.headers['content-disposition']), /^inline;/);
    assert.equal(text.headers['content-security-policy'], undefined, 'inert text needs no sandbox');
  });

  it('HEAD, Range and 304 keep the same guards', async () => {
    const head = await request(stack.port, '/protected/page.html', { method: 'HEAD', headers: alice });
    assert.equal(head.status, 200);
    assert.match(String(head.headers['content-security-policy']), /sandbox/);
    const part = await request(stack.port, '/protected/page.html', { headers: { ...alice, Range: 'bytes=0-14' } });
    assert.equal(part.status, 206);
    assert.equal(part.text(), '<!doctype html>');
    assert.match(String(part.headers['content-disposition']), /^attachment;/);
    assert.match(String(part.headers['content-security-policy']), /sandbox/);
    const etag = String(head.headers.etag);
    const notModified = await request(stack.port, '/protected/page.html', { headers: { ...alice, 'If-None-Match': etag } });
    assert.equal(notModified.status, 304);
  });

  it("nginx's own answers there are Sluice's short JSON, never a typed download", async () => {
    const anonymous = await request(stack.port, '/protected/page.html');
    assertShortJsonError(anonymous, 401, 'authentication required', 'anonymous');
    assert.match(String(anonymous.headers['www-authenticate']), /^Bearer/);
    assertShortJsonError(await request(stack.port, '/protected/missing.html', { headers: alice }), 404, 'not found', 'missing');
  });

  it('an unsatisfiable Range is a JSON 416 with Content-Range, nothing of the file', async () => {
    const res = await request(stack.port, '/protected/page.html', { headers: { ...alice, Range: 'bytes=9000-9001' } });
    assert.equal(res.status, 416);
    assert.deepEqual(res.json(), { error: 'range not satisfiable' });
    assert.equal(res.headers['content-range'], `bytes */${ACTIVE_FILES['page.html']?.length}`);
    // nginx checks the Range after add_header ran for the file (a limit of its filter order), so
    // the file's own header lines stay beside Sluice's: the JSON type comes first, the guards stay.
    assert.match(String(res.headers['content-type']), JSON_TYPE);
    assert.match(String(res.headers['content-security-policy']), /sandbox/);
    assert.match(String(res.headers['x-content-type-options']), /^nosniff(, nosniff)*$/);
    assertNoPrivateHeaders(res, 'range');
  });
});

describe('finding 8: storage error documents never reach the client', () => {
  it('S3 412 and 416 become short JSON (no XML, no request id, no storage headers)', async () => {
    const cases: [Record<string, string>, number, string][] = [
      [{ 'If-Match': '"not-the-etag"' }, 412, 'precondition failed'],
      [{ 'If-Unmodified-Since': 'Mon, 01 Jan 2001 00:00:00 GMT' }, 412, 'precondition failed'],
      [{ Range: 'bytes=9000-9001' }, 416, 'range not satisfiable'],
    ];
    for (const [headers, status, reason] of cases) {
      for (const method of ['GET', 'HEAD']) {
        const res = await request(stack.port, '/files/media/range.bin', { method, headers: { ...alice, ...headers } });
        if (method === 'HEAD') {
          assert.equal(res.status, status, `HEAD ${JSON.stringify(headers)}`);
          assert.match(String(res.headers['content-type']), JSON_TYPE);
          assertNoPrivateHeaders(res, `HEAD ${JSON.stringify(headers)}`);
        } else {
          assertShortJsonError(res, status, reason, JSON.stringify(headers));
        }
      }
    }
  });

  it('storage refusing the signature is a short 502, never its StringToSign/CanonicalRequest', async () => {
    const res = await request(stack.port, '/files/forged/range.bin', { headers: alice });
    assert.equal(res.status, 502);
    assert.deepEqual(res.json(), { error: 'storage error' });
    assert.doesNotMatch(res.text(), /Signature|Canonical|<Error>/);
    assertNoPrivateHeaders(res, 'forged');
  });

  it('conditional requests that succeed still pass: 304 and 206 from S3', async () => {
    const full = await request(stack.port, '/files/media/range.bin', { headers: alice });
    assert.equal(full.status, 200);
    assert.deepEqual(full.body, RANGE_FILE);
    const notModified = await request(stack.port, '/files/media/range.bin', { headers: { ...alice, 'If-None-Match': String(full.headers.etag) } });
    assert.equal(notModified.status, 304);
    const matched = await request(stack.port, '/files/media/range.bin', { headers: { ...alice, 'If-Match': String(full.headers.etag), Range: 'bytes=10-19' } });
    assert.equal(matched.status, 206);
    assert.deepEqual(matched.body, RANGE_FILE.subarray(10, 20));
  });

  it('fs stores answer the same shape, with the Content-Range nginx knows', async () => {
    const range = await request(stack.port, '/files/docs/range.bin', { headers: { ...alice, Range: 'bytes=9000-9001' } });
    assert.equal(range.status, 416);
    assert.deepEqual(range.json(), { error: 'range not satisfiable' });
    assert.equal(countHeader(range, 'Content-Type'), 1);
    assert.match(String(range.headers['content-type']), JSON_TYPE);
    assert.equal(range.headers['content-range'], `bytes */${RANGE_FILE.length}`);
    // A missing .html file: with mime.types included, its extension must not type the JSON answer.
    assertShortJsonError(await request(stack.port, '/files/docs/missing.html', { headers: alice }), 404, 'not found', 'fs missing .html');
    assertShortJsonError(
      await request(stack.port, '/files/docs/range.bin', { headers: { ...alice, 'If-Match': '"nope"' } }),
      412,
      'precondition failed',
      'fs If-Match',
    );
    assertShortJsonError(
      await request(stack.port, '/files/docs/note.txt', { headers: { ...alice, 'If-Unmodified-Since': 'Mon, 01 Jan 2001 00:00:00 GMT' } }),
      412,
      'precondition failed',
      'fs If-Unmodified-Since (a text file: its type must not label the error)',
    );
  });
});

describe('finding 9: range amplification', () => {
  const paths = { fs: '/files/docs/range.bin', protected: '/protected/range.bin', s3: '/files/media/range.bin', stream: '/files/streamed/range.bin' };

  for (const [label, target] of Object.entries(paths)) {
    it(`${label}: 600 one-byte ranges get the plain file, never a bigger multipart body`, async () => {
      const header = manyRanges(600);
      assert.ok(header.length > 4000, 'a ~5 KB request, as in the report');
      for (const ranges of [header, manyRanges(2)]) {
        const res = await request(stack.port, target, { headers: { ...alice, Range: ranges } });
        assert.equal(res.status, 200, `${label}: ${res.text().slice(0, 200)}`);
        assert.doesNotMatch(String(res.headers['content-type']), /multipart/);
        assert.ok(res.body.length <= RANGE_FILE.length, `${label}: ${res.body.length} bytes for a ${RANGE_FILE.length}-byte file`);
        assert.deepEqual(res.body, RANGE_FILE);
      }
      const single = await request(stack.port, target, { headers: { ...alice, Range: 'bytes=100-199' } });
      assert.equal(single.status, 206, label);
      assert.deepEqual(single.body, RANGE_FILE.subarray(100, 200), label);
      assert.equal(single.headers['content-range'], `bytes 100-199/${RANGE_FILE.length}`, label);
    });
  }
});

/** GET on host:port without any helper that would pick 127.0.0.1 for us. */
function probe(host: string, port: number, urlPath: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: urlPath, agent: false, headers: alice }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe('finding 10: nginx public, the app on loopback', () => {
  let open: Stack;

  before(async () => {
    open = await startStack(
      { stores: { docs: { type: 'fs', root: path.join(base, 'docs') } }, auth: testAuthConfig, rules: [{ key: '*rest', when: [{ authenticated: true }] }] },
      { host: '0.0.0.0' },
    );
  });

  after(async () => {
    await open?.stop();
  });

  it('host: 0.0.0.0 makes nginx reachable on every address, the app port on loopback only', async () => {
    // 127.0.0.2 is "another address" on every Linux machine: a 0.0.0.0 listener answers there,
    // a 127.0.0.1 listener does not.
    assert.equal(await probe('127.0.0.2', open.port, '/files/docs/note.txt'), 200, 'nginx listens on host');
    assert.equal(await probe('127.0.0.2', open.app.port, '/metrics'), 'ECONNREFUSED', 'the app port is not exposed');
    assert.equal(await probe('127.0.0.2', open.app.port, '/_sluice/auth'), 'ECONNREFUSED');
    assert.equal(await probe('127.0.0.1', open.app.port, '/metrics'), 200, 'nginx (and local tooling) still reach the app');
    assert.equal(open.app.address, `127.0.0.1:${open.app.port}`);
    assert.equal(open.logs().filter((line) => line.level === 40 && /appHost/.test(String(line.msg))).length, 0, 'no warning on loopback');
  });

  it('an app deliberately on a public address says so at start-up, naming appHost', async () => {
    const exposed = await startStack(
      {
        appHost: '0.0.0.0',
        stores: { docs: { type: 'fs', root: path.join(base, 'docs') } },
        auth: testAuthConfig,
        rules: [{ key: '*rest', when: [{ authenticated: true }] }],
      },
      {},
    );
    try {
      const warnings = exposed.logs().filter((line) => line.level === 40 && /appHost/.test(String(line.msg)));
      assert.equal(warnings.length, 1, JSON.stringify(exposed.logs()));
      assert.equal(warnings[0]?.appHost, '0.0.0.0');
      assert.equal(await probe('127.0.0.2', exposed.app.port, '/metrics'), 200, 'what the warning is about');
      // nginx's upstream is a connectable loopback address, not 0.0.0.0.
      assert.equal(exposed.app.address, `127.0.0.1:${exposed.app.port}`);
      assert.equal(await probe('127.0.0.1', exposed.port, '/files/docs/note.txt'), 200);
    } finally {
      await exposed.stop();
    }
  });
});
