// nginx rendering and settings for the transform worker.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfig } from '../../src/config/load.js';
import { assertWorkerSecret } from '../../src/config/worker-schema.js';
import { renderHttpInclude, renderServerInclude } from '../../src/nginx/render.js';
import { renderInput } from '../../src/cli/nginx-files.js';
import { workerUpstream } from '../../src/nginx/worker-address.js';
import { exposedWorkerWarning } from '../../src/worker/start.js';
import { configError } from '../helpers/config-error.js';

const stores = { photos: { type: 'fs', root: '/srv/photos' } };
const enabled = (worker: Record<string, unknown> = {}): Record<string, unknown> => ({
  stores,
  transform: { enabled: true, keys: ['736563726574'], salts: ['68656c6c6f'], localStore: 'photos' },
  worker: { secret: 's'.repeat(32), port: 3999, ...worker },
});

async function render(raw: Record<string, unknown>): Promise<{ http: string; server: string }> {
  const input = await renderInput(validateConfig(raw), '127.0.0.1:3000');
  return { http: renderHttpInclude(input), server: renderServerInclude(input) };
}

describe('nginx config for transforms', () => {
  it('renders nothing for transforms while they are disabled', async () => {
    const { http, server } = await render({ stores });
    assert.doesNotMatch(http + server, /sluice_worker|proxy_cache|\/_sluice\/img|location \^~ \/img\//);
  });

  it('declares the worker upstream and the result cache in the http include', async () => {
    const { http } = await render(enabled({ cache: { dir: '/var/cache/sluice-img', maxSize: '2g', inactive: '3d' } }));
    assert.match(http, /upstream sluice_worker \{\n    server 127\.0\.0\.1:3999;\n    keepalive 16;\n\}/);
    assert.match(http, /proxy_cache_path \/var\/cache\/sluice-img levels=1:2 keys_zone=sluice_img:16m max_size=2g inactive=3d use_temp_path=off;/);
  });

  it('points the worker upstream at worker.upstream when set (a compose service name), else at the listen address', async () => {
    const upstreamOf = (http: string): string => /upstream sluice_worker \{\n    server ([^;]+);/.exec(http)?.[1] ?? '';
    assert.equal(upstreamOf((await render(enabled({ host: '0.0.0.0', upstream: 'worker:3001' }))).http), 'worker:3001');
    assert.equal(upstreamOf((await render(enabled({ host: '0.0.0.0' }))).http), '127.0.0.1:3999', 'a wildcard is reached over loopback');
    assert.equal(upstreamOf((await render(enabled({ host: '::' }))).http), '[::1]:3999');
    assert.equal(upstreamOf((await render(enabled({ host: '10.0.0.7' }))).http), '10.0.0.7:3999');
    assert.equal(upstreamOf((await render(enabled({ upstream: '[fd00::7]:3001' }))).http), '[fd00::7]:3001');
  });

  it('proxies both public image prefixes to the app, like downloads', async () => {
    const { server } = await render(enabled());
    for (const prefix of ['/img/', '/images/']) {
      const block = server.slice(server.indexOf(`location ^~ ${prefix} {`));
      assert.match(block, /^location \^~ \S+ \{\n    proxy_pass http:\/\/sluice_app;/);
      assert.match(block.slice(0, block.indexOf('}')), /proxy_pass_request_body off;/);
    }
  });

  it("sends only the ticket to the worker and keys the cache on the app's key", async () => {
    const { server } = await render(enabled());
    const start = server.indexOf('location = /_sluice/img {');
    const block = server.slice(start, server.indexOf('\n}', start));
    assert.match(block, /\n    internal;\n/);
    assert.ok(block.indexOf('set $sluice_img_ticket $upstream_http_x_sluice_img_ticket;') < block.indexOf('proxy_pass http://sluice_worker/render;'));
    assert.match(block, /proxy_pass_request_headers off;/);
    assert.match(block, /proxy_set_header X-Sluice-Img-Ticket \$sluice_img_ticket;/);
    assert.doesNotMatch(block, /\$http_authorization|\$http_cookie/);
    assert.match(block, /proxy_cache sluice_img;\n    proxy_cache_key \$sluice_img_key;\n    proxy_cache_valid 200 7d;/);
    assert.match(block, /proxy_cache_lock on;/);
    assert.match(block, /proxy_ignore_headers Cache-Control Expires Set-Cookie Vary /);
    assert.match(block, /add_header Content-Security-Policy "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox" always;/);
    assert.match(block, /add_header Content-Disposition \$sluice_disposition;/);
    // Success only (no "always"): errors keep the worker's no-store.
    assert.match(block, /add_header Cache-Control \$sluice_img_cache_control;/);
  });

  it('without the cache, lets the worker answer conditional requests', async () => {
    const { http, server } = await render(enabled({ cache: { enabled: false } }));
    assert.doesNotMatch(http + server, /proxy_cache/);
    assert.match(server, /proxy_set_header If-None-Match \$http_if_none_match;/);
  });
});

describe('worker settings', () => {
  it('has bounded defaults', () => {
    const { worker } = validateConfig({ stores });
    assert.equal(worker.host, '127.0.0.1');
    assert.deepEqual(worker.limits, {
      maxInputPixels: 50_000_000,
      maxFrames: 1,
      maxResultDimension: 8192,
      maxResultPixels: 16_777_216,
      formatMaxResultPixels: { avif: 4_194_304, gif: 4_194_304 },
      maxBlurSigma: 100,
    });
    assert.equal(worker.clientConcurrency, Math.max(1, Math.floor(worker.concurrency / 2)), 'one client never holds every slot');
    assert.equal(worker.clientQueueSize, 8);
    assert.deepEqual(worker.renderBudget, { rendersPerSecond: 2, burst: 60 });
    assert.ok(worker.concurrency >= 1);
    assert.ok(worker.maxSourceBytes > 0);
    assert.equal(worker.negotiate, true);
  });

  it('refuses bad values, naming the setting and its variable', () => {
    const message = configError(() =>
      validateConfig({
        stores,
        worker: {
          host: 'evil; include /etc',
          upstream: 'worker',
          secret: 'short',
          queueSize: -1,
          cache: { maxSize: 'lots', dir: '/tmp/a b' },
          defaultQuality: { jpeg: 101 },
        },
      }),
    );
    assert.match(message, /worker\.host \(SLUICE_WORKER__HOST\): a host name or IP address/);
    assert.match(message, /worker\.upstream \(SLUICE_WORKER__UPSTREAM\): host:port, such as worker:3001/);
    assert.match(message, /worker\.secret \(SLUICE_WORKER__SECRET\): the worker secret must be at least 32 characters/);
    assert.match(message, /worker\.queueSize \(SLUICE_WORKER__QUEUE_SIZE\)/);
    assert.match(message, /worker\.cache\.maxSize \(SLUICE_WORKER__CACHE__MAX_SIZE\): an nginx size/);
    assert.match(message, /worker\.cache\.dir/);
    assert.match(message, /worker\.defaultQuality\.jpeg/);
  });

  it("listens beyond loopback when asked (containers), with nginx's address apart", () => {
    const { worker } = validateConfig({ stores, worker: { host: '0.0.0.0', upstream: 'worker:3001' } });
    assert.equal(worker.host, '0.0.0.0');
    assert.equal(workerUpstream(worker), 'worker:3001');
    assert.equal(workerUpstream(validateConfig({ stores }).worker), '127.0.0.1:3001', 'default: the loopback listen address');
    assert.match(
      configError(() => validateConfig({ stores, worker: { upstream: 'worker:70000' } })),
      /worker\.upstream .*a port between 1 and 65535/,
    );
  });

  it('warns at start-up, naming worker.host and its variable, only off loopback', () => {
    for (const host of ['127.0.0.1', '::1', 'localhost']) assert.equal(exposedWorkerWarning(host), undefined, host);
    const warning = exposedWorkerWarning('0.0.0.0') ?? '';
    assert.match(warning, /^worker\.host 0\.0\.0\.0 is not a loopback address: the worker port .* must be reachable by nginx only/);
    assert.match(warning, /signed ticket/);
    assert.match(warning, /SLUICE_WORKER__HOST\) to 127\.0\.0\.1$/);
  });

  it('requires the app↔worker secret when transforms are on', () => {
    const { worker } = validateConfig({ ...enabled(), worker: { port: 3999 } });
    assert.match(
      configError(() => assertWorkerSecret(worker)),
      /worker\.secret \(SLUICE_WORKER__SECRET\): required for image transforms and encrypted stores \(app and worker share it\)/,
    );
  });
});
