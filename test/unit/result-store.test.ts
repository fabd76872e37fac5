// The shared result store's pure parts: the result key and the render-settings digest, the
// start-up checks of transform.resultStore, the nginx locations, prune's age parsing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfig } from '../../src/config/load.js';
import { renderInput } from '../../src/cli/nginx-files.js';
import { renderServerInclude } from '../../src/nginx/render.js';
import { cacheKey, signTicket, verifyTicket } from '../../src/transform/internal-token.js';
import { DEFAULT_PLAN } from '../../src/transform/plan.js';
import { renderSettingsDigest, resultKey, resultObjectName, type RenderSettings } from '../../src/transform/result-key.js';
import { parseAge } from '../../src/worker/transform/result-prune.js';
import { configError } from '../helpers/config-error.js';

const SETTINGS: RenderSettings = {
  defaultQuality: {},
  avifEffort: 2,
  limits: { maxFrames: 1, maxResultDimension: 8192, maxResultPixels: 16_777_216, formatMaxResultPixels: {} },
};
const digest = renderSettingsDigest(SETTINGS);
const base = { plan: { ...DEFAULT_PLAN, width: 400 }, store: 'media', key: 'a/b.jpg', version: '"etag-1"', format: 'png' as const, settings: digest };

describe('result key', () => {
  it('changes with the plan, the source, its version, the format, the Accept class and the settings', () => {
    const keys = [
      resultKey(base),
      resultKey({ ...base, plan: { ...base.plan, width: 401 } }),
      resultKey({ ...base, store: 'other' }),
      resultKey({ ...base, key: 'a/c.jpg' }),
      resultKey({ ...base, version: '"etag-2"' }),
      resultKey({ ...base, format: 'webp' }),
      resultKey({ ...base, format: null, negotiable: [{ format: 'avif', enforce: false }] }),
      resultKey({ ...base, settings: renderSettingsDigest({ ...SETTINGS, defaultQuality: { png: 90 } }) }),
      resultKey({ ...base, plan: { ...base.plan, cacheBuster: 'x' } }),
    ];
    assert.equal(new Set(keys).size, keys.length);
    for (const key of keys) assert.match(key, /^[0-9a-f]{64}$/);
  });

  it('leaves out what is not in the bytes: the download name, the attachment flag, the URL lifetime', () => {
    const variant = { ...base.plan, filename: 'holiday', returnAttachment: true, expires: 2_000_000_000 };
    assert.equal(resultKey({ ...base, plan: variant }), resultKey(base));
  });

  it('is a pure function (same input, same key) and names a sharded object under the prefix', () => {
    const key = resultKey(base);
    assert.equal(resultKey({ ...base }), key);
    assert.equal(resultObjectName('results/', key), `results/${key.slice(0, 2)}/${key}`);
    assert.throws(() => resultObjectName('results/', '../x'));
  });
});

describe('render settings digest', () => {
  it('changes with default quality, AVIF effort, the watermark and the limits that scale results', () => {
    const digests = [
      digest,
      renderSettingsDigest({ ...SETTINGS, defaultQuality: { jpeg: 70 } }),
      renderSettingsDigest({ ...SETTINGS, avifEffort: 4 }),
      renderSettingsDigest({ ...SETTINGS, watermark: '/etc/sluice/mark.png' }),
      renderSettingsDigest({ ...SETTINGS, watermark: '/etc/sluice/mark-2024.png' }),
      renderSettingsDigest({ ...SETTINGS, watermarkData: 'iVBORw0KGgo=' }),
      renderSettingsDigest({ ...SETTINGS, limits: { ...SETTINGS.limits, maxResultPixels: 4_000_000 } }),
      renderSettingsDigest({ ...SETTINGS, limits: { ...SETTINGS.limits, formatMaxResultPixels: { avif: 1_000_000 } } }),
      renderSettingsDigest({ ...SETTINGS, limits: { ...SETTINGS.limits, maxFrames: 10 } }),
    ];
    assert.equal(new Set(digests).size, digests.length);
  });

  it('ignores key order and settings that only refuse requests', () => {
    assert.equal(
      renderSettingsDigest({ ...SETTINGS, defaultQuality: { jpeg: 70, png: 90 } }),
      renderSettingsDigest({ ...SETTINGS, defaultQuality: { png: 90, jpeg: 70 } }),
    );
    const worker = validateConfig({ stores: { a: { type: 'fs', root: '/tmp' } } }).worker;
    const refusingOnly = { ...worker.limits, maxInputPixels: 1000, maxBlurSigma: 5 };
    assert.equal(renderSettingsDigest(worker), renderSettingsDigest({ ...worker, limits: refusingOnly }));
  });

  it("is part of nginx's cache key: changing quality or the watermark no longer serves the old result", () => {
    const input = { plan: base.plan, store: 'media', key: 'a/b.jpg', validator: '"e"', format: 'png' as const };
    const keys = new Set([
      cacheKey({ ...input, settings: digest }),
      cacheKey({ ...input, settings: renderSettingsDigest({ ...SETTINGS, defaultQuality: { png: 50 } }) }),
      cacheKey({ ...input, settings: renderSettingsDigest({ ...SETTINGS, watermark: '/w.png' }) }),
    ]);
    assert.equal(keys.size, 3);
  });
});

describe('ticket with a stored-result reference', () => {
  const SECRET = 'worker-secret-0123456789abcdef0123456789';
  const ticket = {
    plan: base.plan,
    source: { kind: 'url' as const, url: 'http://s3/x' },
    format: 'png' as const,
    cacheKey: 'f'.repeat(64),
    expires: Math.floor(Date.now() / 1000) + 60,
    client: 'sub:a',
  };

  it('round-trips the result key and settings; a malformed key is refused', () => {
    const result = { key: resultKey(base), settings: digest };
    assert.deepEqual(verifyTicket(signTicket({ ...ticket, result }, SECRET), SECRET)?.result, result);
    assert.equal(verifyTicket(signTicket({ ...ticket, result: { key: '../../etc/passwd', settings: digest } }, SECRET), SECRET), null);
  });
});

describe('transform.resultStore settings', () => {
  const stores = {
    media: { type: 's3', bucket: 'media', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true },
    results: { type: 's3', bucket: 'results', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true },
    vault: { type: 's3', bucket: 'vault', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true, encrypted: true },
    local: { type: 'fs', root: '/tmp' },
  };
  const config = (transform: Record<string, unknown>, rules: unknown[] = []): ReturnType<typeof validateConfig> =>
    validateConfig({ stores, rules, transform: { enabled: true, unsafeUnsigned: true, ...transform }, worker: { secret: 'x'.repeat(32) } });

  it('defaults the prefix to results/ and is optional', () => {
    assert.deepEqual(config({ resultStore: { store: 'results' } }).transform.resultStore, { store: 'results', prefix: 'results/' });
    assert.equal(config({}).transform.resultStore, undefined);
  });

  it('refuses an unknown, encrypted or source store, a rule naming it, and a bad prefix — naming the setting', () => {
    assert.match(
      configError(() => config({ resultStore: { store: 'nope' } })),
      /transform\.resultStore\.store.*"nope" is not a configured store/,
    );
    assert.match(
      configError(() => config({ resultStore: { store: 'vault' } })),
      /transform\.resultStore\.store.*encrypted/,
    );
    assert.match(
      configError(() => config({ resultStore: { store: 'local' }, localStore: 'local' })),
      /transform\.resultStore\.store.*localStore/,
    );
    assert.match(
      configError(() => config({ resultStore: { store: 'results' } }, [{ store: 'results', key: '*rest', actions: ['read'] }])),
      /rules\.0\.store.*result store/,
    );
    assert.match(
      configError(() => config({ resultStore: { store: 'results', prefix: '../up/' } })),
      /transform\.resultStore\.prefix/,
    );
    assert.match(
      configError(() => config({ resultStore: { store: 'results', prefix: '/abs/' } })),
      /transform\.resultStore\.prefix/,
    );
    assert.match(
      configError(() => config({ resultStore: { store: 'results', prefix: 'no-slash' } })),
      /transform\.resultStore\.prefix/,
    );
  });

  it("renders the result locations; without the setting nginx ignores the worker's X-Accel-Redirect as before", async () => {
    const withStore = renderServerInclude(await renderInput(config({ resultStore: { store: 'results' } }), '127.0.0.1:3000'));
    assert.match(
      withStore,
      /location = \/_sluice\/img-result \{[^}]*proxy_pass http:\/\/sluice_s3_results\$sluice_img_result_path;[^}]*proxy_cache_key \$sluice_img_key;/,
    );
    const workerLocation = withStore.slice(withStore.indexOf('location = /_sluice/img {'), withStore.indexOf('location = /_sluice/img-result {'));
    assert.match(workerLocation, /proxy_ignore_headers /);
    assert.doesNotMatch(workerLocation, /proxy_ignore_headers[^;]*X-Accel-Redirect/);
    const fsStore = renderServerInclude(await renderInput(config({ resultStore: { store: 'local', prefix: 'derived/' } }), '127.0.0.1:3000'));
    assert.match(fsStore, /location \^~ \/_sluice\/img-result-fs\/ \{\n    internal;\n    alias "\/tmp\/derived\/";/);
    const without = renderServerInclude(await renderInput(config({}), '127.0.0.1:3000'));
    assert.doesNotMatch(without, /img-result/);
    assert.match(without, /proxy_ignore_headers[^;]*X-Accel-Redirect/);
  });
});

describe('prune ages', () => {
  it('reads 30d, 12h, 90m, 45s and refuses anything else', () => {
    assert.equal(parseAge('30d'), 30 * 86_400_000);
    assert.equal(parseAge('12h'), 12 * 3_600_000);
    assert.equal(parseAge('90m'), 90 * 60_000);
    assert.equal(parseAge('45s'), 45_000);
    for (const bad of ['', '0d', '30', 'd', '1w', '-1d', '1.5h']) assert.equal(parseAge(bad), null, bad);
  });
});
