// IMGPROXY_* variables read as imgproxy reads them, and SLUICE_* values typed by their schema field.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { imgproxyEnvYaml } from '../../src/cli/imgproxy-env-command.js';
import { configFromEnv } from '../../src/config/env.js';
import { configFromImgproxyEnv, parseEnvFile } from '../../src/config/imgproxy-env.js';
import { loadConfig } from '../../src/config/load.js';
import { resultCacheControl } from '../../src/http/routes/images.js';
import { configError } from '../helpers/config-error.js';

const WIKI = {
  IMGPROXY_KEY: '736563726574',
  IMGPROXY_SALT: '68656C6C6F',
  IMGPROXY_PATH_PREFIX: '/trackers/tracker1/imgproxy',
  IMGPROXY_ALLOWED_SOURCES: 'local://',
  IMGPROXY_ENABLE_WEBP_DETECTION: 'true',
  IMGPROXY_ENFORCE_WEBP: 'true',
  IMGPROXY_ENABLE_AVIF_DETECTION: 'true',
  IMGPROXY_ENFORCE_AVIF: 'true',
  IMGPROXY_TTL: '1',
  IMGPROXY_LOCAL_FILESYSTEM_ROOT: '/srv/tracker/db/files/file',
  IMGPROXY_PRESETS: 'mark=watermark:0.3:sowe',
  IMGPROXY_WATERMARK_DATA: 'iVBORw0KGgo=',
};
const SECRET = { SLUICE_WORKER__SECRET: 'w'.repeat(40) };

function load(env: Record<string, string>, warnings: string[] = []) {
  return loadConfig({ env, warn: (message) => warnings.push(message) });
}

describe('IMGPROXY_* variables', () => {
  it("read the wiki's env file as imgproxy does: every variable mapped, no warning", () => {
    const warnings: string[] = [];
    const config = load({ ...WIKI, ...SECRET }, warnings);
    assert.deepEqual(warnings, []);
    const { transform, worker, stores } = config;
    assert.equal(transform.enabled, true);
    assert.deepEqual([transform.keys, transform.salts], [['736563726574'], ['68656c6c6f']], 'hex stays hex, never a number');
    assert.equal(transform.imgproxyPrefix, '/trackers/tracker1/imgproxy');
    assert.deepEqual(transform.allowedSources, ['local://']);
    assert.deepEqual([transform.ttl, transform.publicCache], [1, false]);
    assert.deepEqual(transform.presets, { mark: 'watermark:0.3:sowe' });
    assert.equal(transform.localStore, 'local');
    assert.deepEqual(stores.local, { type: 'fs', root: '/srv/tracker/db/files/file', delivery: 'nginx', cacheControl: 'private, no-store', encrypted: false });
    assert.deepEqual([worker.autoAvif, worker.autoWebp, worker.enforceAvif, worker.enforceWebp], [true, true, true, true]);
    assert.equal(worker.watermarkData, 'iVBORw0KGgo=');
  });

  it("apply imgproxy's own defaults: no format negotiation unless asked for", () => {
    const { worker } = load({ IMGPROXY_KEY: 'aa', IMGPROXY_SALT: 'bb', IMGPROXY_LOCAL_FILESYSTEM_ROOT: '/srv', ...SECRET });
    assert.deepEqual([worker.autoAvif, worker.autoWebp, worker.enforceAvif], [false, false, false]);
    // the config file and SLUICE_* may still switch it on: a default is no conflict
    assert.equal(
      load({ IMGPROXY_KEY: 'aa', IMGPROXY_SALT: 'bb', IMGPROXY_LOCAL_FILESYSTEM_ROOT: '/srv', SLUICE_WORKER__AUTO_AVIF: 'true', ...SECRET }).worker.autoAvif,
      true,
    );
  });

  it('parse numbers, megapixels, qualities, lists and presets with imgproxy’s rules', () => {
    const { explicit, errors } = configFromImgproxyEnv({
      IMGPROXY_KEY: 'AA,bb',
      IMGPROXY_SIGNATURE_SIZE: '8',
      IMGPROXY_MAX_SRC_RESOLUTION: '16.8',
      IMGPROXY_MAX_SRC_FILE_SIZE: '1048576',
      IMGPROXY_MAX_ANIMATION_FRAMES: '20',
      IMGPROXY_QUALITY: '70',
      IMGPROXY_FORMAT_QUALITY: 'webp=60,avif=50',
      IMGPROXY_AVIF_SPEED: '7',
      IMGPROXY_PRESETS: 'thumb=rs:fill:200:200/q:70;mark=wm:0.3:sowe',
      IMGPROXY_PRESETS_SEPARATOR: ';',
      IMGPROXY_ONLY_PRESETS: 't',
      IMGPROXY_WATERMARK_PATH: '/etc/mark.png',
    });
    assert.deepEqual(errors, []);
    assert.deepEqual(explicit.transform, {
      enabled: true,
      keys: ['aa', 'bb'],
      signatureSize: 8,
      presets: { thumb: 'rs:fill:200:200/q:70', mark: 'wm:0.3:sowe' },
      onlyPresets: true,
    });
    assert.deepEqual(explicit.worker, {
      limits: { maxInputPixels: 16_800_000, maxFrames: 20 },
      maxSourceBytes: 1_048_576,
      defaultQuality: { jpeg: 70, webp: 60, avif: 50 },
      avifEffort: 2,
      watermark: '/etc/mark.png',
    });
  });

  it('name the variable of a malformed value', () => {
    assert.match(
      configError(() => load({ IMGPROXY_KEY: 'xyz', ...SECRET })),
      /IMGPROXY_KEY: expected hex strings/,
    );
    assert.match(
      configError(() => load({ IMGPROXY_TTL: 'soon', ...SECRET })),
      /IMGPROXY_TTL: expected an integer, got "soon"/,
    );
    assert.match(
      configError(() => load({ IMGPROXY_ENFORCE_AVIF: 'yes', ...SECRET })),
      /IMGPROXY_ENFORCE_AVIF: expected a boolean/,
    );
    // schema problems of mapped values name the IMGPROXY_* variable, not a SLUICE_* one
    assert.match(
      configError(() => load({ IMGPROXY_KEY: 'aa', IMGPROXY_SALT: 'bb', IMGPROXY_SIGNATURE_SIZE: '40', IMGPROXY_LOCAL_FILESYSTEM_ROOT: '/srv', ...SECRET })),
      /transform\.signatureSize \(IMGPROXY_SIGNATURE_SIZE\)/,
    );
  });

  it('warn about unsupported variables, and refuse those whose absence would weaken security', () => {
    const warnings: string[] = [];
    load(
      {
        ...WIKI,
        ...SECRET,
        IMGPROXY_STRIP_METADATA: 'false',
        IMGPROXY_CACHE_CONTROL_PASSTHROUGH: 'true',
        IMGPROXY_ALLOWED_SOURCES: 'local://,https://cdn.example.com/',
      },
      warnings,
    );
    assert.equal(warnings.length, 3, warnings.join('\n'));
    assert.match(warnings.join('\n'), /IMGPROXY_STRIP_METADATA is not supported/);
    assert.match(warnings.join('\n'), /IMGPROXY_CACHE_CONTROL_PASSTHROUGH: not supported/);
    assert.match(warnings.join('\n'), /IMGPROXY_ALLOWED_SOURCES: .*https:\/\/cdn\.example\.com\//);
    assert.match(
      configError(() => load({ ...WIKI, ...SECRET, IMGPROXY_SECRET: 'bearer-secret' })),
      /IMGPROXY_SECRET: .*Authorization/,
    );
    assert.match(
      configError(() => load({ ...WIKI, ...SECRET, IMGPROXY_WATERMARK_URL: 'https://x/mark.png' })),
      /IMGPROXY_WATERMARK_URL/,
    );
  });

  it('refuse a setting given differently by IMGPROXY_* and SLUICE_* (or two imgproxy spellings)', () => {
    assert.match(
      configError(() => load({ ...WIKI, ...SECRET, SLUICE_TRANSFORM__TTL: '60' })),
      /transform\.ttl: IMGPROXY_TTL sets 1, the configuration .* sets 60/,
    );
    assert.match(
      configError(() => load({ ...WIKI, ...SECRET, SLUICE_TRANSFORM__KEYS: 'abcd' })),
      /transform\.keys: IMGPROXY_KEY/,
    );
    assert.match(
      configError(() => load({ ...WIKI, ...SECRET, SLUICE_TRANSFORM__ENABLED: 'false' })),
      /transform\.enabled/,
    );
    assert.match(
      configError(() => load({ ...WIKI, ...SECRET, IMGPROXY_AUTO_WEBP: 'false' })),
      /IMGPROXY_ENABLE_WEBP_DETECTION and IMGPROXY_AUTO_WEBP|IMGPROXY_AUTO_WEBP and IMGPROXY_ENABLE_WEBP_DETECTION/,
    );
    // the same value twice is no conflict; nor is an existing fs store with the same root
    assert.equal(load({ ...WIKI, ...SECRET, SLUICE_TRANSFORM__TTL: '1', SLUICE_TRANSFORM__KEYS: '736563726574' }).transform.ttl, 1);
    const own = load({
      ...WIKI,
      ...SECRET,
      SLUICE_STORES__FILES__TYPE: 'fs',
      SLUICE_STORES__FILES__ROOT: '/srv/tracker/db/files/file',
      SLUICE_TRANSFORM__LOCAL_STORE: 'files',
    });
    assert.equal(own.transform.localStore, 'files');
    assert.match(
      configError(() =>
        load({ ...WIKI, ...SECRET, SLUICE_STORES__FILES__TYPE: 'fs', SLUICE_STORES__FILES__ROOT: '/elsewhere', SLUICE_TRANSFORM__LOCAL_STORE: 'files' }),
      ),
      /IMGPROXY_LOCAL_FILESYSTEM_ROOT .* store "files" with root "\/elsewhere"/,
    );
  });

  it('`sluice imgproxy-env` prints the equivalent YAML, warnings as comments', () => {
    const text = [
      '# the wiki setup',
      ...Object.entries(WIKI).map(([k, v]) => `${k}=${v}`),
      'export IMGPROXY_USE_ETAG="true"',
      "IMGPROXY_BOGUS='x'",
      'PATH=/usr/bin',
    ].join('\n');
    const yaml = imgproxyEnvYaml(text);
    assert.match(yaml, /^# warning: IMGPROXY_BOGUS is not supported/m);
    assert.match(yaml, /keys:\n\s+- "736563726574"/);
    assert.match(yaml, /imgproxyPrefix: \/trackers\/tracker1\/imgproxy/);
    assert.match(yaml, /enforceAvif: true/);
    assert.match(yaml, /# not IMGPROXY_\* variables, left out: PATH/);
    assert.deepEqual(parseEnvFile('A="x \\"y\\""\nexport B=\'$z\'\nC=plain # comment\n'), { A: 'x "y"', B: '$z', C: 'plain' });
  });
});

describe('SLUICE_* values typed by their schema field', () => {
  it('keeps hex keys, salts and secrets as written; parses numbers and booleans only where expected', () => {
    const tree = configFromEnv({
      SLUICE_TRANSFORM__KEYS: '736563726574',
      SLUICE_TRANSFORM__SALTS: '1234',
      SLUICE_WORKER__SECRET: '1234567890123456789012345678901234567890',
      SLUICE_JWT_SECRET: '00000000000000000000000000000000',
      SLUICE_PORT: '8081',
      SLUICE_TRANSFORM__ENABLED: 'true',
      SLUICE_WORKER__RENDER_BUDGET__RENDERS_PER_SECOND: '0.5',
      SLUICE_STORES__MEDIA__FORCE_PATH_STYLE: 'true',
      SLUICE_STORES__MEDIA__BUCKET: '2024',
      SLUICE_AUTH__COOKIE_NAME: 'true',
    });
    assert.deepEqual(tree, {
      transform: { keys: '736563726574', salts: '1234', enabled: true },
      worker: { secret: '1234567890123456789012345678901234567890', renderBudget: { rendersPerSecond: 0.5 } },
      auth: { keys: [{ algorithms: ['HS256'], secret: '00000000000000000000000000000000' }], cookieName: 'true' },
      port: 8081,
      stores: { media: { forcePathStyle: true, bucket: '2024' } },
    });
  });

  it('names the variable when a value has the wrong type', () => {
    const minimal = { SLUICE_STORES__DOCS__TYPE: 'fs', SLUICE_STORES__DOCS__ROOT: '/srv/docs' };
    assert.match(
      configError(() => loadConfig({ env: { ...minimal, SLUICE_WORKER__CONCURRENCY: 'many' } })),
      /worker\.concurrency \(SLUICE_WORKER__CONCURRENCY\): .*number/,
    );
    assert.match(
      configError(() => loadConfig({ env: { ...minimal, SLUICE_TRANSFORM__ENABLED: 'yes' } })),
      /transform\.enabled \(SLUICE_TRANSFORM__ENABLED\): .*boolean/,
    );
    assert.match(
      configError(() => loadConfig({ env: { ...minimal, SLUICE_WORKER__SECRET: '12' } })),
      /worker\.secret \(SLUICE_WORKER__SECRET\): the worker secret must be at least 32/,
    );
  });
});

describe('Cache-Control of results (IMGPROXY_TTL)', () => {
  const now = 1_700_000_000_000;
  it('is the TTL, private unless configured public, capped by the URL’s expires', () => {
    assert.equal(resultCacheControl({ ttl: undefined, publicCache: false }, { expires: null }, 'private, max-age=600', now), 'private, max-age=600');
    assert.equal(resultCacheControl({ ttl: 3600, publicCache: false }, { expires: null }, 'x', now), 'private, max-age=3600');
    assert.equal(resultCacheControl({ ttl: 3600, publicCache: true }, { expires: null }, 'x', now), 'public, max-age=3600');
    assert.equal(resultCacheControl({ ttl: 3600, publicCache: false }, { expires: now / 1000 + 90 }, 'x', now), 'private, max-age=90');
    assert.equal(resultCacheControl({ ttl: 0, publicCache: false }, { expires: null }, 'x', now), 'no-cache');
  });
});
