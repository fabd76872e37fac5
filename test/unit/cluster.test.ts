// The pieces of `--processes` that need no processes: counting, the crash back-off, and which
// configurations are refused without Redis. The supervisor itself: test/integration/processes.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from 'commander';
import { parseProcesses, resolveProcesses } from '../../src/cluster/processes.js';
import { assertPasswordReadableByEach } from '../../src/cluster/password-source.js';
import { assertSharedState, sharedStateNeeds } from '../../src/cluster/shared-state.js';
import { crashPolicy } from '../../src/cluster/supervise.js';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/load.js';

const plain = { stores: { docs: { type: 'fs', root: '/srv/docs' } } };
const config = (extra: Record<string, unknown> = {}) => loadConfig({ env: {}, defaults: { ...plain, ...extra } });
const LINK_KEY = { kid: 'k1', secret: 's'.repeat(40) };

describe('--processes', () => {
  it('parses a count or "auto" and refuses anything else', () => {
    assert.equal(parseProcesses('4'), 4);
    assert.equal(parseProcesses('auto'), 'auto');
    for (const bad of ['0', '-1', '1.5', 'two', '', '257']) assert.throws(() => parseProcesses(bad), InvalidArgumentError, bad);
  });

  it('the flag wins over the setting; auto is the number of usable cores; default one', () => {
    assert.equal(resolveProcesses(undefined, undefined), 1);
    assert.equal(resolveProcesses(undefined, 3), 3);
    assert.equal(resolveProcesses(2, 3), 2);
    assert.equal(
      resolveProcesses('auto', 3, () => 8),
      8,
    );
    assert.equal(
      resolveProcesses(undefined, 'auto', () => 6),
      6,
    );
  });

  it('ops.processes and ops.workerProcesses are settings (SLUICE_OPS__PROCESSES=auto)', () => {
    const loaded = loadConfig({ env: { SLUICE_OPS__PROCESSES: 'auto', SLUICE_OPS__WORKER_PROCESSES: '3' }, defaults: plain });
    assert.equal(loaded.ops.processes, 'auto');
    assert.equal(loaded.ops.workerProcesses, 3);
    assert.throws(() => loadConfig({ env: { SLUICE_OPS__PROCESSES: '0' }, defaults: plain }), /ops\.processes \(SLUICE_OPS__PROCESSES\)/);
  });
});

describe('crash back-off', () => {
  it('replaces a lone crash at once, backs off on repeats, gives up at the limit within the window', () => {
    let t = 0;
    const policy = crashPolicy({ max: 4, windowMs: 60_000 }, () => t);
    assert.deepEqual(policy.record(), { recent: 1, replace: true, delayMs: 0 });
    t += 1000;
    assert.deepEqual(policy.record(), { recent: 2, replace: true, delayMs: 200 });
    t += 1000;
    assert.deepEqual(policy.record(), { recent: 3, replace: true, delayMs: 400 });
    t += 1000;
    assert.deepEqual(policy.record(), { recent: 4, replace: false, delayMs: 800 });
  });

  it('forgets crashes older than the window', () => {
    let t = 0;
    const policy = crashPolicy({ max: 2, windowMs: 10_000 }, () => t);
    assert.equal(policy.record().replace, true);
    t += 10_001;
    assert.deepEqual(policy.record(), { recent: 1, replace: true, delayMs: 0 });
  });
});

describe('state shared between processes', () => {
  it('a plain config (rules only, no sharing, no uploads) runs several processes without Redis', () => {
    assert.deepEqual(sharedStateNeeds(config()), []);
    assert.doesNotThrow(() => assertSharedState(config(), 8));
  });

  it('share links, rate limits and uploads need Redis with more than one process', () => {
    const risky = config({ sharing: { keys: [LINK_KEY], rateLimit: { requestsPerSecond: 10 } }, uploads: { enabled: true } });
    assert.deepEqual(
      sharedStateNeeds(risky).map((need) => need.key),
      ['sharing.keys', 'sharing.rateLimit', 'uploads.enabled'],
    );
    assert.doesNotThrow(() => assertSharedState(risky, 1), 'one process keeps the in-memory state correct');
    const error = (() => {
      try {
        assertSharedState(risky, 2);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /sharing\.keys \(SLUICE_SHARING__KEYS\): with 2 processes and no redisUrl/);
    assert.match(error.message, /sharing\.rateLimit \(SLUICE_SHARING__RATE_LIMIT\)/);
    assert.match(error.message, /uploads\.enabled \(SLUICE_UPLOADS__ENABLED\)/);
    assert.match(error.message, /set redisUrl \(SLUICE_REDIS_URL\)/);
  });

  it('with redisUrl every feature may run in several processes', () => {
    const shared = config({
      redisUrl: 'redis://127.0.0.1:6379',
      sharing: { keys: [LINK_KEY], rateLimit: { requestsPerSecond: 10 } },
      uploads: { enabled: true },
    });
    assert.doesNotThrow(() => assertSharedState(shared, 4));
  });
});

describe("the worker's master password with several worker processes", () => {
  const encrypted = (passwordFile: string) =>
    config({
      stores: { vault: { type: 'fs', root: '/srv/vault', encrypted: true } },
      encryption: { keyringFile: '/etc/sluice/keyring.json', passwordFile, allowRegularPasswordFile: true },
    });

  it('refuses a descriptor or pipe (read once; fd 3 is the IPC channel of a forked process)', () => {
    assert.doesNotThrow(() => assertPasswordReadableByEach(encrypted('/dev/fd/3'), 1));
    assert.throws(
      () => assertPasswordReadableByEach(encrypted('/dev/fd/3'), 2),
      /encryption\.passwordFile \(SLUICE_ENCRYPTION__PASSWORD_FILE\): \/dev\/fd\/3 can be read once, but 2 worker processes/,
    );
  });

  it('accepts a regular file (a secret on tmpfs) and configs without encrypted stores', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-cluster-'));
    const file = path.join(dir, 'pw');
    writeFileSync(file, 'secret\n');
    assert.doesNotThrow(() => assertPasswordReadableByEach(encrypted(file), 4));
    assert.doesNotThrow(() => assertPasswordReadableByEach(config({ encryption: { passwordFile: '/dev/fd/3' } }), 4));
  });
});
