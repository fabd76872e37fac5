import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config/errors.js';
import { validateConfig } from '../../src/config/load.js';
import { renderFullConfig, renderHttpInclude, renderServerInclude } from '../../src/nginx/render.js';
import { PROTECTED_ERROR_STATUSES, renderProtectedLocation } from '../../src/nginx/render-auth-request.js';
import { PROTECTED_HEADERS, privateDownloadHeaders } from '../../src/contract/headers.js';
import { downloadHeaders } from '../../src/http/download-headers.js';
import { renderInput } from '../../src/cli/nginx-files.js';
import { REPO_ROOT, renderExamples } from '../../scripts/nginx-examples.js';

const config = validateConfig({
  stores: {
    docs: { type: 'fs', root: '/srv/docs/' },
    minio: { type: 's3', bucket: 'b', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true },
    aws: { type: 's3', bucket: 'media', region: 'eu-west-1' },
  },
});

describe('nginx config rendering', () => {
  it('declares every store as an internal location', async () => {
    const server = renderServerInclude(await renderInput(config, '127.0.0.1:3000'));
    assert.match(server, /location \^~ \/_sluice\/fs\/docs\/ \{\n    internal;\n    alias "\/srv\/docs\/";/);
    assert.match(server, /location = \/_sluice\/s3\/minio \{\n    internal;/);
    assert.match(server, /location = \/_sluice\/s3\/aws \{\n    internal;/);
    assert.equal(server.match(/location (\^~|=) \/_sluice\/(fs|s3)\/[^{]*\{\n    internal;/g)?.length, 3);
    // Every location under the internal prefix (stores, error answers) is internal.
    const internalLocations = server.match(/location (\^~|=) \/_sluice\/[^{]*\{\n[^\n]*/g) ?? [];
    assert.ok(internalLocations.length >= 5);
    for (const location of internalLocations) assert.match(location, /\{\n    internal;$/, location);
  });

  it('fixes the S3 host in the config: only the signed path comes from the app', async () => {
    const input = await renderInput(config, '127.0.0.1:3000');
    const server = renderServerInclude(input);
    assert.match(server, /proxy_pass http:\/\/sluice_s3_minio\$sluice_s3_path;\n    proxy_set_header Host "127\.0\.0\.1:9000";/);
    assert.match(server, /proxy_pass https:\/\/sluice_s3_aws\$sluice_s3_path;\n    proxy_set_header Host "media\.s3\.eu-west-1\.amazonaws\.com";/);
    const http = renderHttpInclude(input);
    assert.match(http, /upstream sluice_s3_minio \{\n    server 127\.0\.0\.1:9000;/);
    assert.match(http, /upstream sluice_s3_aws \{\n    server media\.s3\.eu-west-1\.amazonaws\.com:443;/);
    assert.match(http, /upstream sluice_app \{\n    server 127\.0\.0\.1:3000;/);
  });

  it('forwards no client credentials to storage and never spools to disk', async () => {
    const server = renderServerInclude(await renderInput(config, '127.0.0.1:3000'));
    const s3Block = server.slice(server.indexOf('location = /_sluice/s3/minio'));
    assert.match(s3Block, /proxy_pass_request_headers off;/);
    assert.doesNotMatch(s3Block, /\$http_authorization|\$http_cookie|proxy_set_header (Authorization|Cookie)/);
    assert.match(s3Block, /proxy_max_temp_file_size 0;/);
    assert.match(s3Block, /proxy_hide_header Content-Disposition;/);
  });

  it('refuses store roots nginx would misread, naming the setting', async () => {
    const bad = validateConfig({ stores: { docs: { type: 'fs', root: '/srv/$evil' } } });
    await assert.rejects(
      async () => renderServerInclude(await renderInput(bad, '127.0.0.1:3000')),
      (error: unknown) => error instanceof ConfigError && /stores\.docs\.root/.test(error.message),
    );
  });

  it('the committed example files are exactly what the renderer produces', async () => {
    for (const [file, expected] of await renderExamples()) {
      const committed = await readFile(path.join(REPO_ROOT, file), 'utf8');
      assert.equal(committed, expected, `${file} is stale: run npm run nginx:examples`);
    }
  });

  it('docs/sharing.md shows exactly the protected location the renderer produces', async () => {
    const page = await readFile(path.join(REPO_ROOT, 'docs', 'sharing.md'), 'utf8');
    const rendered = renderProtectedLocation({ path: '/protected', root: '/srv/docs', internalPrefix: '/_sluice' });
    assert.ok(page.includes(`\`\`\`nginx\n${rendered}\n\`\`\``), 'docs/sharing.md "nginx auth_request" snippet is stale');
  });
});

/** The body of `location <spec> {…}` in rendered text. */
function block(text: string, spec: string): string {
  const start = text.indexOf(`location ${spec} {`);
  assert.ok(start >= 0, `no location ${spec}`);
  return text.slice(start, text.indexOf('\n}', start) + 2);
}

/** Every URI error_page target must be an internal location of the server include. */
function assertErrorTargetsDeclared(locations: string, server: string): void {
  for (const [, target] of locations.matchAll(/error_page [\d ]+ = (\/\S+);/g)) {
    assert.match(block(server, `= ${target}`), /internal;/, `${target} is declared and internal`);
  }
}

describe('nginx config rendering: review findings', () => {
  const withProtected = validateConfig({
    stores: { docs: { type: 'fs', root: '/srv/docs' }, minio: { type: 's3', bucket: 'b', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true } },
    sharing: { authRequest: { locations: { '/protected': 'docs' } } },
  });

  it('protected location: every carried header is read from the auth answer and re-added, the type only by the app', () => {
    const location = renderProtectedLocation({ path: '/protected', root: '/srv/docs', internalPrefix: '/_sluice' });
    for (const carried of PROTECTED_HEADERS) {
      const variable = new RegExp(`auth_request_set (\\$\\w+) \\$upstream_http_${carried.privateHeader.toLowerCase().replace(/-/g, '_')};`).exec(location)?.[1];
      assert.ok(variable !== undefined, `${carried.privateHeader} is read`);
      const line = `add_header ${carried.header} ${variable}${carried.always ? ' always' : ''};`;
      assert.ok(location.includes(line), line);
    }
    // No type from mime.types (types {}) and none of nginx's own (empty default_type): one Content-Type.
    assert.match(location, /\n    types \{ \}\n    default_type "";\n/);
    assert.doesNotMatch(location, /add_header Content-Type [^\n]* always;/, 'never on error pages');
    assert.doesNotMatch(location, /add_header Content-Disposition [^\n]* always;/, 'an error is never a download');
    assert.match(location, /\n    max_ranges 1;\n/);
  });

  it('the app carries every download header the renderer re-adds, and only those', () => {
    const headers = downloadHeaders({ fileName: 'x.svg', attachment: false, cacheControl: 'private, no-store' });
    const carried = privateDownloadHeaders(headers);
    assert.deepEqual(Object.keys(carried).sort(), PROTECTED_HEADERS.map((h) => h.privateHeader).sort());
    assert.equal(carried['X-Sluice-Content-Type'], 'image/svg+xml');
    assert.match(carried['X-Sluice-Csp'] ?? '', /sandbox/);
    assert.match(carried['X-Sluice-Disposition'] ?? '', /^attachment;/);
    for (const name of Object.keys(carried)) assert.match(name, /^X-Sluice-/, 'private names only');
    assert.equal(privateDownloadHeaders(downloadHeaders({ fileName: 'x.png', attachment: false, cacheControl: 'x' }))['X-Sluice-Csp'], undefined);
  });

  it("protected and store locations send nginx's own errors to declared internal JSON locations", async () => {
    const server = renderServerInclude(await renderInput(withProtected, '127.0.0.1:3000'));
    const location = renderProtectedLocation({ path: '/protected', root: '/srv/docs', internalPrefix: '/_sluice' });
    for (const status of PROTECTED_ERROR_STATUSES) assert.ok(location.includes(`error_page ${status} = /_sluice/error/${status};`), String(status));
    assertErrorTargetsDeclared(location, server);
    assertErrorTargetsDeclared(server, server);
    const range = block(server, '= /_sluice/error/416');
    assert.match(range, /types \{ \}\n    default_type application\/json;/);
    assert.match(range, /return 416 '\{"error":"range not satisfiable"\}\\n';/);
    // Named error locations keep the file's URI: without an empty `types`, mime.types would type them.
    for (const name of ['@sluice_not_found', '@sluice_storage_error', '@sluice_app_unavailable']) {
      assert.match(block(server, name), /types \{ \}\n    default_type application\/json;/, name);
    }
  });

  it('fs: one range per request, 412/416 as JSON', async () => {
    const fs = block(renderServerInclude(await renderInput(withProtected, '127.0.0.1:3000')), '^~ /_sluice/fs/docs/');
    assert.match(fs, /\n    max_ranges 1;\n/);
    assert.match(fs, /error_page 412 = \/_sluice\/error\/412;/);
    assert.match(fs, /error_page 416 = \/_sluice\/error\/416;/);
  });

  it('S3: a Range goes to storage only when it names one range; every storage error status is intercepted', async () => {
    const input = await renderInput(withProtected, '127.0.0.1:3000');
    const s3 = block(renderServerInclude(input), '= /_sluice/s3/minio');
    assert.match(s3, /proxy_set_header Range \$sluice_single_range;/);
    assert.doesNotMatch(s3, /\$http_range/);
    assert.match(renderHttpInclude(input), /map \$http_range \$sluice_single_range \{\n    default "";\n    "~\*\^bytes=[^"]+" \$http_range;\n\}/);
    const handled = new Set([...s3.matchAll(/error_page ([\d ]+) =/g)].flatMap(([, codes]) => (codes ?? '').trim().split(' ').map(Number)));
    for (const status of [301, 302, 307, 400, 401, 403, 404, 405, 409, 412, 416, 429, 500, 501, 502, 503, 504])
      assert.ok(handled.has(status), `storage status ${status} is intercepted`);
    assert.ok(!handled.has(304), '304 passes through');
    assert.match(s3, /error_page 412 = \/_sluice\/error\/412;/);
    assert.match(s3, /error_page 416 = \/_sluice\/error\/416;/);
  });

  it('the single-range map matches one range only', () => {
    // The same regex nginx evaluates (PCRE and JS agree on this subset).
    const pattern =
      /"~\*(\^[^"]+)"/.exec(
        renderHttpInclude({ config: withProtected, appAddress: '127.0.0.1:3000', s3Origins: new Map([['minio', 'http://127.0.0.1:9000']]) }),
      )?.[1] ?? '';
    const single = new RegExp(pattern.replace(/\\\\/g, '\\'), 'i');
    for (const ok of ['bytes=0-99', 'bytes=100-', 'bytes=-500', 'Bytes= 5-6 ']) assert.ok(single.test(ok), ok);
    for (const no of ['bytes=0-0,2-2', 'bytes=0-1, 3-4', 'bytes=-', 'items=0-1', 'bytes=a-b', '']) assert.ok(!single.test(no), no);
  });

  it('nginx listens on host, the upstream is the app on appHost; mime.types only on request', async () => {
    const config = validateConfig({ host: '0.0.0.0', stores: { docs: { type: 'fs', root: '/srv/docs' } } });
    assert.equal(config.appHost, '127.0.0.1', 'the app defaults to loopback');
    const input = await renderInput(config, '127.0.0.1:3000');
    const full = renderFullConfig({ ...input, runtimeDir: '/run/x', httpIncludePath: '/x/http.conf', serverIncludePath: '/x/server.conf' });
    assert.match(full, /listen 0\.0\.0\.0:8080;/);
    assert.doesNotMatch(full, /include mime\.types;/);
    assert.match(
      renderFullConfig({ ...input, runtimeDir: '/run/x', httpIncludePath: '/x/http.conf', serverIncludePath: '/x/server.conf', mimeTypes: true }),
      /http \{\n    include mime\.types;/,
    );
  });
});
