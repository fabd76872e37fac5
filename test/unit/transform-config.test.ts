import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/load.js';

const minimal = { SLUICE_STORES__DOCS__TYPE: 'fs', SLUICE_STORES__DOCS__ROOT: '/srv/docs' };

function problems(env: Record<string, string>): string {
  try {
    loadConfig({ env: { ...minimal, ...env } });
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error.message;
  }
  assert.fail('expected a ConfigError');
}

describe('transform configuration', () => {
  it('defaults to off, unsigned URLs refused, imgproxy’s signature size', () => {
    const { transform } = loadConfig({ env: minimal });
    assert.deepEqual(transform, {
      enabled: false,
      keys: [],
      salts: [],
      signatureSize: 32,
      unsafeUnsigned: false,
      presets: {},
      onlyPresets: false,
      imgproxyPrefix: '/img',
      nativePrefix: '/images',
      publicCache: false,
      // nginx's decision cache for image URLs is opt-in.
      decisionCache: { ttlSeconds: 0 },
    });
  });

  it('refuses to enable transforms without keys unless told the URLs are unsigned', () => {
    assert.match(problems({ SLUICE_TRANSFORM__ENABLED: 'true' }), /transform\.keys \(SLUICE_TRANSFORM__KEYS\): set keys\/salts or transform\.unsafeUnsigned/);
    assert.equal(loadConfig({ env: { ...minimal, SLUICE_TRANSFORM__ENABLED: 'true', SLUICE_TRANSFORM__UNSAFE_UNSIGNED: 'true' } }).transform.enabled, true);
  });

  it('takes key/salt pairs as JSON lists or comma-separated hex, digit-only hex as written', () => {
    const { transform } = loadConfig({
      env: { ...minimal, SLUICE_TRANSFORM__ENABLED: 'true', SLUICE_TRANSFORM__KEYS: '736563726574,AABB', SLUICE_TRANSFORM__SALTS: '["68656C6C6F","ccdd"]' },
    });
    assert.deepEqual(
      [transform.keys, transform.salts],
      [
        ['736563726574', 'AABB'],
        ['68656C6C6F', 'ccdd'],
      ],
    );
    const quoted = loadConfig({ env: { ...minimal, SLUICE_TRANSFORM__KEYS: '"736563726574"', SLUICE_TRANSFORM__SALTS: 'aa' } }).transform;
    assert.deepEqual(quoted.keys, ['736563726574']);
    // typed by the schema, never by its look: digit-only hex stays text, unquoted
    const digits = loadConfig({ env: { ...minimal, SLUICE_TRANSFORM__KEYS: '736563726574', SLUICE_TRANSFORM__SALTS: '1234' } }).transform;
    assert.deepEqual([digits.keys, digits.salts], [['736563726574'], ['1234']]);
  });

  it('names the key of bad hex and of unpaired salts', () => {
    assert.match(
      problems({ SLUICE_TRANSFORM__KEYS: '["abc"]', SLUICE_TRANSFORM__SALTS: '["aa"]' }),
      /transform\.keys\.0 \(SLUICE_TRANSFORM__KEYS__0\): must be a non-empty hex string/,
    );
    assert.match(
      problems({ SLUICE_TRANSFORM__KEYS: 'aa,bb', SLUICE_TRANSFORM__SALTS: 'cc' }),
      /transform\.salts \(SLUICE_TRANSFORM__SALTS\): one salt per key is required \(2 keys, 1 salts\)/,
    );
    assert.match(problems({ SLUICE_TRANSFORM__SIGNATURE_SIZE: '33' }), /transform\.signatureSize/);
  });

  it('validates presets at start-up: syntax, option names, references and cycles', () => {
    assert.match(problems({ SLUICE_TRANSFORM__PRESETS: '{"thumb":"rs:fit:10:10/bogus:1"}' }), /transform\.presets\.thumb .*unknown option "bogus"/);
    assert.match(problems({ SLUICE_TRANSFORM__PRESETS: '{"thumb":"rs:fit:10:10/large"}' }), /transform\.presets\.thumb .*"large" is not an option/);
    assert.match(problems({ SLUICE_TRANSFORM__PRESETS: '{"a":"pr:nope"}' }), /transform\.presets\.a .*unknown preset "nope"/);
    assert.match(problems({ SLUICE_TRANSFORM__PRESETS: '{"a":"pr:b","b":"q:5/pr:a"}' }), /transform\.presets\.a .*refers to itself: a → b → a/);
    assert.match(problems({ SLUICE_TRANSFORM__PRESETS: '{"bad name":"q:5"}' }), /transform\.presets/);
  });

  it('validates the allowed option names and the prefixes', () => {
    assert.match(problems({ SLUICE_TRANSFORM__ALLOWED_OPTIONS: '["rs","nope"]' }), /transform\.allowedOptions\.1 .*unknown option "nope"/);
    assert.match(problems({ SLUICE_TRANSFORM__NATIVE_PREFIX: '/img' }), /transform\.nativePrefix .*must differ/);
    assert.match(problems({ SLUICE_TRANSFORM__IMGPROXY_PREFIX: 'img' }), /transform\.imgproxyPrefix/);
  });
});
