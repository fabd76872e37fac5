// Waiting with a deadline: the work's outcome, or the signal's reason as soon as it aborts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { abortable } from '../../src/abortable.js';

describe('abortable', () => {
  it('passes the outcome of work that settles first, value or error', async () => {
    const controller = new AbortController();
    assert.equal(await abortable(Promise.resolve(7), controller.signal), 7);
    await assert.rejects(abortable(Promise.reject(new Error('broken')), controller.signal), /broken/);
  });

  it('rejects with the signal’s reason once it aborts, while the work still runs', async () => {
    const controller = new AbortController();
    const never = new Promise<never>(() => undefined);
    const waiting = abortable(never, controller.signal);
    controller.abort(new Error('deadline'));
    await assert.rejects(waiting, /deadline/);
  });

  it('rejects at once for a signal that has already aborted', async () => {
    await assert.rejects(abortable(Promise.resolve(1), AbortSignal.abort(new Error('too late'))), /too late/);
  });

  it('works with AbortSignal.timeout', async () => {
    // AbortSignal.timeout's timer does not keep the process alive (nothing else here does):
    // hold the event loop open until the signal fired, or the test ends before it can.
    const keepAlive = setInterval(() => undefined, 1000);
    try {
      await assert.rejects(abortable(new Promise<never>(() => undefined), AbortSignal.timeout(10)), { name: 'TimeoutError' });
    } finally {
      clearInterval(keepAlive);
    }
  });
});
