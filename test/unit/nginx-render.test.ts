import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config/errors.js';
import { validateConfig } from '../../src/config/load.js';
import { renderHttpInclude, renderServerInclude } from '../../src/nginx/render.js';
import { renderInput } from '../../src/nginx/write.js';
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
    assert.equal(server.match(/internal;/g)?.length, 3);
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
});
