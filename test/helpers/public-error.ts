import assert from 'node:assert/strict';
import { PublicError } from '../../src/errors.js';

/** 0 when the promise resolves; the PublicError's status when it rejects with one (anything else fails). */
export async function statusOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 0;
  } catch (error) {
    assert.ok(error instanceof PublicError, String(error));
    return error.status;
  }
}
