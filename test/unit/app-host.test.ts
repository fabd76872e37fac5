// appHost: the app's own listen address, separate from nginx's `host` (finding 10).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig, validateConfig } from '../../src/config/load.js';
import { appAddress, exposedAppWarning, isLoopback } from '../../src/nginx/app-address.js';

const stores = { docs: { type: 'fs', root: '/tmp' } };

describe('appHost', () => {
  it('defaults to loopback whatever nginx listens on', () => {
    const config = validateConfig({ host: '0.0.0.0', stores });
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.appHost, '127.0.0.1');
  });

  it('comes from SLUICE_APP_HOST like every other setting', () => {
    const config = loadConfig({
      env: { SLUICE_APP_HOST: '10.0.0.5', SLUICE_HOST: '0.0.0.0', SLUICE_STORES__DOCS__TYPE: 'fs', SLUICE_STORES__DOCS__ROOT: '/tmp' },
    });
    assert.equal(config.appHost, '10.0.0.5');
    assert.equal(config.host, '0.0.0.0');
  });

  it('tells loopback from everything else', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', '::ffff:127.0.0.1']) assert.ok(isLoopback(host), host);
    for (const host of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.2', 'example.org', '128.0.0.1']) assert.ok(!isLoopback(host), host);
  });

  it('warns, naming appHost and its variable, only off loopback', () => {
    assert.equal(exposedAppWarning('127.0.0.1'), undefined);
    assert.match(exposedAppWarning('0.0.0.0') ?? '', /appHost 0\.0\.0\.0 .*SLUICE_APP_HOST/);
  });

  it('gives nginx a connectable upstream address', () => {
    assert.equal(appAddress('127.0.0.1', 3000), '127.0.0.1:3000');
    assert.equal(appAddress('0.0.0.0', 3000), '127.0.0.1:3000');
    assert.equal(appAddress('::', 3000), '[::1]:3000');
    assert.equal(appAddress('fd00::5', 3000), '[fd00::5]:3000');
    assert.equal(appAddress('10.0.0.5', 3000), '10.0.0.5:3000');
  });
});
