import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { configFromEnv } from '../../src/config/env.js';
import { loadConfig } from '../../src/config/load.js';
import { configError } from '../helpers/config-error.js';

const minimal = { SLUICE_STORES__DOCS__TYPE: 'fs', SLUICE_STORES__DOCS__ROOT: '/srv/docs' };

describe('configuration', () => {
  it('maps SLUICE_ variables onto the config tree', () => {
    assert.deepEqual(
      configFromEnv({
        SLUICE_PORT: '8081',
        SLUICE_AUTH__COOKIE_NAME: 'session',
        SLUICE_STORES__MEDIA_2__FORCE_PATH_STYLE: 'true',
        SLUICE_RULES: '[{"key":"*path","when":[{"public":true}]}]',
        SLUICE_CONFIG: 'ignored.yaml',
        OTHER: 'x',
      }),
      {
        port: 8081,
        auth: { cookieName: 'session' },
        stores: { media_2: { forcePathStyle: true } },
        rules: [{ key: '*path', when: [{ public: true }] }],
      },
    );
  });

  it('applies defaults', () => {
    const config = loadConfig({ env: minimal });
    assert.equal(config.port, 8080);
    assert.equal(config.prefix, '/files');
    const store = config.stores.docs;
    assert.equal(store?.type === 'fs' && store.delivery, 'nginx');
    assert.equal(store?.cacheControl, 'private, no-store');
    assert.deepEqual(config.rules, [], 'deny by default: no rules');
  });

  it('SLUICE_JWT_SECRET is a shortcut for one HS256 key', () => {
    const config = loadConfig({ env: { ...minimal, SLUICE_JWT_SECRET: 's'.repeat(32) } });
    assert.deepEqual(config.auth.keys, [{ algorithms: ['HS256'], secret: 's'.repeat(32) }]);
  });

  it('reads YAML config files and lets the environment override them', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-config-'));
    const file = path.join(dir, 'sluice.yaml');
    writeFileSync(file, 'port: 9000\nstores:\n  media:\n    type: s3\n    bucket: media\n    endpoint: http://127.0.0.1:9999\n');
    const config = loadConfig({ env: { SLUICE_CONFIG: file, SLUICE_PORT: '9001' } });
    assert.equal(config.port, 9001);
    assert.equal(config.stores.media?.type, 's3');
  });

  it('names the setting and its variable in every error', () => {
    assert.match(
      configError(() => loadConfig({ env: {} })),
      /stores \(SLUICE_STORES\)/,
    );
    assert.match(
      configError(() => loadConfig({ env: { SLUICE_STORES__DOCS__TYPE: 'fs' } })),
      /stores\.docs\.root \(SLUICE_STORES__DOCS__ROOT\)/,
    );
    assert.match(
      configError(() => loadConfig({ env: { ...minimal, SLUICE_PORT: 'eighty' } })),
      /port \(SLUICE_PORT\)/,
    );
    assert.match(
      configError(() => loadConfig({ env: { ...minimal, SLUICE_STORES__DOCS__DELIVERY: 'redirect' } })),
      /stores\.docs\.delivery/,
      'redirect mode needs presigned URLs: fs stores refuse it',
    );
    assert.match(
      configError(() => loadConfig({ env: { ...minimal, SLUICE_JWT_SECRET: 'short' } })),
      /auth\.keys\.0\.secret/,
    );
    assert.match(
      configError(() => loadConfig({ env: { ...minimal, SLUICE_TYPO: '1' } })),
      /Unrecognized key.*typo/,
    );
    assert.match(
      configError(() => loadConfig({ env: { ...minimal, SLUICE_RULES: '[{"store":"nope","key":"*p"}]' } })),
      /rules\.0\.store .*unknown store "nope"/,
    );
    assert.match(
      configError(() => loadConfig({ env: { ...minimal, SLUICE_TRANSFORM__LOCAL_STORE: 'nope' } })),
      /transform\.localStore \(SLUICE_TRANSFORM__LOCAL_STORE\): "nope" is not a configured fs store/,
    );
  });

  it('refuses key/secret pairs that invite algorithm confusion', () => {
    const keys = JSON.stringify([{ algorithms: ['RS256', 'HS256'], secret: 'x'.repeat(32) }]);
    assert.match(
      configError(() => loadConfig({ env: { ...minimal, SLUICE_AUTH__KEYS: keys } })),
      /auth\.keys\.0\.algorithms/,
    );
  });

  it('reports an unreadable config file by name', () => {
    assert.match(
      configError(() => loadConfig({ env: { SLUICE_CONFIG: '/nonexistent/sluice.yaml' } })),
      /SLUICE_CONFIG: cannot read/,
    );
  });
});
