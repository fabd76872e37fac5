// The Redis settings: `redisUrl` (shorthand) or `redis` in one of three shapes, from a file or
// the environment, and the one function every feature asks whether shared state is configured.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig, validateConfig } from '../../src/config/load.js';
import { hasSharedState, redisSettings } from '../../src/state/settings.js';
import { configError } from '../helpers/config-error.js';

const stores = { docs: { type: 'fs', root: '/srv/docs' } };
const env = { SLUICE_STORES__DOCS__TYPE: 'fs', SLUICE_STORES__DOCS__ROOT: '/srv/docs' };

describe('redis settings', () => {
  it('redisUrl stays the shorthand for one server', () => {
    const config = validateConfig({ stores, redisUrl: 'redis://127.0.0.1:6379/2' });
    assert.deepEqual(redisSettings(config), {
      topology: { kind: 'standalone', url: 'redis://127.0.0.1:6379/2' },
      commandTimeoutMs: 1000,
      waitForReplicas: 'auto',
      waitTimeoutMs: 250,
    });
    assert.equal(hasSharedState(validateConfig({ stores })), false);
  });

  it('takes each of the three shapes', () => {
    assert.deepEqual(redisSettings(validateConfig({ stores, redis: { url: 'rediss://cache:6380' } }))?.topology, {
      kind: 'standalone',
      url: 'rediss://cache:6380',
    });
    const sentinel = validateConfig({ stores, redis: { sentinels: ['10.0.0.1:26379', '[::1]:26380'], name: 'mymaster', sentinelPassword: 'sp', db: 3 } });
    assert.deepEqual(redisSettings(sentinel)?.topology, {
      kind: 'sentinel',
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      name: 'mymaster',
      password: undefined,
      sentinelPassword: 'sp',
      db: 3,
    });
    const cluster = validateConfig({ stores, redis: { nodes: ['a:7000', 'b:7001'], password: 'pw', waitForReplicas: 0 } });
    assert.deepEqual(redisSettings(cluster), {
      topology: {
        kind: 'cluster',
        nodes: [
          { host: 'a', port: 7000 },
          { host: 'b', port: 7001 },
        ],
        password: 'pw',
      },
      commandTimeoutMs: 1000,
      waitForReplicas: 0,
      waitTimeoutMs: 250,
    });
    assert.equal(hasSharedState(cluster), true);
  });

  it('reads lists from comma-separated environment variables', () => {
    const config = loadConfig({
      env: { ...env, SLUICE_REDIS__SENTINELS: 's1:26379, s2:26379,s3:26379', SLUICE_REDIS__NAME: 'mymaster', SLUICE_REDIS__WAIT_FOR_REPLICAS: '2' },
    });
    assert.deepEqual(config.redis?.sentinels, ['s1:26379', 's2:26379', 's3:26379']);
    assert.equal(config.redis?.waitForReplicas, 2);
    assert.deepEqual(loadConfig({ env: { ...env, SLUICE_REDIS__NODES: '["n1:7000","n2:7000"]' } }).redis?.nodes, ['n1:7000', 'n2:7000']);
  });

  it('refuses redisUrl and redis together, naming both', () => {
    assert.match(
      configError(() => loadConfig({ env: { ...env, SLUICE_REDIS_URL: 'redis://a:6379', SLUICE_REDIS__URL: 'redis://b:6379' } })),
      /redis \(SLUICE_REDIS\): set redisUrl \(SLUICE_REDIS_URL\) or redis, not both/,
    );
  });

  it('refuses mixed or incomplete shapes, naming the setting', () => {
    const bad = (redis: Record<string, unknown>): string => configError(() => validateConfig({ stores, redis }));
    assert.match(bad({ url: 'redis://a:6379', nodes: ['b:7000'] }), /redis \(SLUICE_REDIS\): set exactly one of `url`, `sentinels` \(with `name`\) or `nodes`/);
    assert.match(bad({}), /redis \(SLUICE_REDIS\): set exactly one of/);
    assert.match(bad({ sentinels: ['s:26379'] }), /redis\.name \(SLUICE_REDIS__NAME\): the primary's name is required with `sentinels`/);
    assert.match(bad({ nodes: ['n:7000'], name: 'x' }), /redis\.name .*only with `sentinels`/);
    assert.match(bad({ url: 'redis://a:6379', password: 'pw' }), /redis\.password .*write the password in the URL/);
    assert.match(bad({ nodes: ['no-port'] }), /redis\.nodes\.0 .*host:port/);
    assert.match(bad({ url: 'http://a' }), /redis\.url/);
    assert.match(bad({ url: 'redis://a:6379', waitTimeoutMs: 2000 }), /redis\.waitTimeoutMs .*below commandTimeoutMs/);
  });
});
