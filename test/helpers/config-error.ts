import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config/errors.js';

/** Runs fn, which must fail with a ConfigError, and returns its message. */
export function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error.message;
  }
  assert.fail('expected a ConfigError');
}
