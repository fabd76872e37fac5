// The worker's building blocks: the app↔worker ticket, the cache key, the bounded queue; its
// start-up warning for a listen address beyond loopback.
import assert from 'node:assert/strict';
import os from 'node:os';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { validateConfig } from '../../src/config/load.js';
import { PublicError } from '../../src/errors.js';
import { createLogger } from '../../src/observability/logger.js';
import { startWorker } from '../../src/worker/start.js';
import { cacheKey, signTicket, verifyTicket, type Ticket } from '../../src/transform/internal-token.js';
import { DEFAULT_PLAN } from '../../src/transform/plan.js';
import { createLimiter } from '../../src/worker/transform/queue.js';

const SECRET = 'worker-secret-0123456789abcdef0123456789';
const now = Math.floor(Date.now() / 1000);
const ticket: Ticket = {
  plan: { ...DEFAULT_PLAN, width: 400, height: 300 },
  source: { kind: 'store', store: 'photos', segments: ['a b', 'ü.jpg'] },
  format: 'webp',
  cacheKey: 'f'.repeat(64),
  expires: now + 60,
  client: 'sub:alice',
};

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('worker ticket', () => {
  it('round-trips plan, source, format, key and expiry', () => {
    assert.deepEqual(verifyTicket(signTicket(ticket, SECRET), SECRET), ticket);
  });

  it('is refused when missing, forged, tampered or expired', () => {
    const signed = signTicket(ticket, SECRET);
    assert.equal(verifyTicket(undefined, SECRET), null);
    assert.equal(verifyTicket('', SECRET), null);
    assert.equal(verifyTicket(signed, 'another-secret-0123456789abcdef012345'), null);
    const [payload, mac] = signed.split('.') as [string, string];
    const forged = Buffer.from(Buffer.from(payload, 'base64url').toString().replace('"webp"', '"png"')).toString('base64url');
    assert.equal(verifyTicket(`${forged}.${mac}`, SECRET), null);
    assert.equal(verifyTicket(`${payload}.${mac.slice(0, -2)}`, SECRET), null);
    assert.equal(verifyTicket(signTicket({ ...ticket, expires: now - 1 }, SECRET), SECRET), null);
  });
});

describe('transform cache key', () => {
  const base = { plan: ticket.plan, store: 'photos', key: 'a/b.jpg', validator: 'W/"1-2"', format: 'webp' as const };

  it('changes with the plan, the source, its version and the output format', () => {
    const keys = new Set([
      cacheKey(base),
      cacheKey({ ...base, plan: { ...base.plan, width: 401 } }),
      cacheKey({ ...base, store: 'other' }),
      cacheKey({ ...base, key: 'a/c.jpg' }),
      cacheKey({ ...base, validator: 'W/"1-3"' }),
      cacheKey({ ...base, format: 'avif' }),
      cacheKey({ ...base, plan: { ...base.plan, cacheBuster: 'x' } }),
    ]);
    assert.equal(keys.size, 7);
    assert.match(cacheKey(base), /^[0-9a-f]{64}$/);
  });

  it('ignores what only changes headers or the URL lifetime', () => {
    const variant = { ...base.plan, expires: now + 999, filename: 'report', returnAttachment: true };
    assert.equal(cacheKey({ ...base, plan: variant }), cacheKey(base));
  });
});

describe('worker queue', () => {
  it('runs at most `concurrency` tasks, queues up to `queueSize`, refuses the rest with 429', async () => {
    const limiter = createLimiter({ concurrency: 2, queueSize: 1, retryAfterSeconds: 3 });
    const gate = deferred();
    let running = 0;
    let peak = 0;
    const task = async (): Promise<string> => {
      running += 1;
      peak = Math.max(peak, running);
      await gate.promise;
      running -= 1;
      return 'done';
    };
    const accepted = [limiter.run(task), limiter.run(task), limiter.run(task)];
    assert.equal(limiter.active, 2);
    assert.equal(limiter.waiting, 1);
    await assert.rejects(limiter.run(task), (error: unknown) => {
      assert.ok(error instanceof PublicError);
      assert.equal(error.status, 429);
      assert.deepEqual(error.headers, { 'Retry-After': '3' });
      return true;
    });
    gate.resolve();
    assert.deepEqual(await Promise.all(accepted), ['done', 'done', 'done']);
    assert.equal(peak, 2);
    assert.equal(limiter.active, 0);
  });

  it('frees the slot when a task fails', async () => {
    const limiter = createLimiter({ concurrency: 1, queueSize: 0, retryAfterSeconds: 1 });
    await assert.rejects(
      limiter.run(() => Promise.reject(new Error('boom'))),
      /boom/,
    );
    assert.equal(await limiter.run(() => Promise.resolve(7)), 7);
  });

  it('drops a waiter whose client went away, without running it', async () => {
    const limiter = createLimiter({ concurrency: 1, queueSize: 5, retryAfterSeconds: 1 });
    const gate = deferred();
    const first = limiter.run(() => gate.promise);
    const controller = new AbortController();
    let ran = false;
    const waiting = limiter.run(async () => {
      ran = true;
    }, controller.signal);
    assert.equal(limiter.waiting, 1);
    controller.abort();
    await assert.rejects(waiting, (error: unknown) => error instanceof PublicError && error.status === 499);
    assert.equal(limiter.waiting, 0);
    gate.resolve();
    await first;
    assert.equal(ran, false);
    assert.equal(limiter.active, 0);
  });
});

describe('worker start-up', () => {
  /** Starts the worker on `host` (any free port), stops it, and returns its log lines. */
  async function startLogs(host: string): Promise<Record<string, unknown>[]> {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const config = validateConfig({ stores: { photos: { type: 'fs', root: os.tmpdir() } }, worker: { secret: SECRET, host } });
    const worker = await startWorker(config, { port: 0, logger: createLogger('info', sink), render: async () => ({ data: Buffer.alloc(0), format: 'png' }) });
    await worker.close();
    return lines;
  }
  const warnings = (lines: Record<string, unknown>[]): Record<string, unknown>[] => lines.filter((line) => line.level === 40 && 'workerHost' in line);

  it('says so when it listens beyond loopback, naming worker.host', async () => {
    const found = warnings(await startLogs('0.0.0.0'));
    assert.equal(found.length, 1, JSON.stringify(found));
    assert.equal(found[0]?.workerHost, '0.0.0.0');
    assert.match(String(found[0]?.msg), /^worker\.host 0\.0\.0\.0 is not a loopback address/);
  });

  it('stays quiet on loopback', async () => {
    assert.deepEqual(warnings(await startLogs('127.0.0.1')), []);
  });
});
