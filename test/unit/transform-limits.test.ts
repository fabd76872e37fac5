// The limits that bound what one holder of `transform` can make the worker do: the render
// deadline (libvips really stops), result area and filter strength, per-client queueing and
// the per-client render budget.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { validateConfig } from '../../src/config/load.js';
import { PublicError } from '../../src/errors.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMemoryRateLimiter } from '../../src/ratelimit/token-bucket.js';
import { signTicket, verifyTicket } from '../../src/transform/internal-token.js';
import { sigmaCap } from '../../src/transform/pipeline/effects.js';
import { computeGeometry, outputSize } from '../../src/transform/pipeline/geometry.js';
import { DEFAULT_RENDER_LIMITS, renderImage, type RenderLimits } from '../../src/transform/pipeline/index.js';
import { DEFAULT_PLAN, type OutputFormat, type TransformPlan } from '../../src/transform/plan.js';
import { assertRequestWithinLimits } from '../../src/transform/request-limits.js';
import { createRenderBudget } from '../../src/worker/transform/budget.js';
import { createLimiter, type RefusalReason } from '../../src/worker/transform/queue.js';
import { configError } from '../helpers/config-error.js';

const plan = (overrides: Partial<TransformPlan>): TransformPlan => ({ ...DEFAULT_PLAN, ...overrides });
const silent = createLogger('silent');

function render(source: Buffer, overrides: Partial<TransformPlan>, format: OutputFormat, limits: Partial<RenderLimits> = {}, deadlineMs?: number) {
  return renderImage(source, plan(overrides), {
    format,
    limits: { ...DEFAULT_RENDER_LIMITS, ...limits },
    defaultQuality: {},
    avifEffort: 0,
    watermark: null,
    ...(deadlineMs !== undefined && { deadlineMs }),
  });
}

const status = (expected: number, reason?: RegExp) => (error: unknown) => {
  assert.ok(error instanceof PublicError, String(error));
  assert.equal(error.status, expected);
  if (reason !== undefined) assert.match(error.reason, reason);
  return true;
};

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

describe('requested results (checked by the app before signing)', () => {
  const limits = { maxResultDimension: 8192, maxResultPixels: 16_777_216, maxBlurSigma: 100 };

  it('refuses a result area beyond the limit with 400 naming the limit, even when each side is allowed', () => {
    assert.throws(
      () => assertRequestWithinLimits(plan({ width: 8192, height: 8192, enlarge: true, extend: { enabled: true, gravity: null } }), limits),
      status(400, /requested result above the limit of 16777216 pixels/),
    );
    // dpr and zoom multiply the request; padding adds to it
    assert.throws(() => assertRequestWithinLimits(plan({ width: 3000, height: 3000, dpr: 2 }), limits), status(400, /requested result/));
    assert.throws(() => assertRequestWithinLimits(plan({ width: 4000, height: 4000, zoomX: 1.5, zoomY: 1.5 }), limits), status(400, /requested result/));
    assert.throws(
      () => assertRequestWithinLimits(plan({ width: 4000, height: 4000, padding: { top: 100, right: 100, bottom: 100, left: 100 } }), limits),
      status(400, /requested result/),
    );
    assertRequestWithinLimits(plan({ width: 4096, height: 4096 }), limits);
  });

  it('refuses a side beyond the limit, padding or min-width included', () => {
    assert.throws(() => assertRequestWithinLimits(plan({ width: 9000 }), limits), status(400, /requested width above the limit of 8192 pixels/));
    assert.throws(() => assertRequestWithinLimits(plan({ padding: { top: 0, right: 0, bottom: 999_999, left: 0 } }), limits), status(400, /requested height/));
    assert.throws(() => assertRequestWithinLimits(plan({ minWidth: 5000, dpr: 2 }), limits), status(400, /requested width/));
    assertRequestWithinLimits(plan({ width: 8192 }), limits);
  });

  it('refuses a blur sigma above the absolute limit', () => {
    assert.throws(() => assertRequestWithinLimits(plan({ blur: 1000 }), limits), status(400, /^blur above the limit of 100 sigma$/));
    assertRequestWithinLimits(plan({ blur: 100 }), limits);
  });
});

describe('result area in the pipeline (results that grow from the source are scaled down)', () => {
  const huge = { width: 8192, height: 8192, enlarge: true, extend: { enabled: true, gravity: null } } as const;

  it('computeGeometry fits enlarge + extend, padding and dpr into the area', () => {
    for (const overrides of [
      huge,
      { width: 8000, enlarge: true },
      { width: 3000, height: 3000, dpr: 2, enlarge: true },
      { width: 5000, height: 5000, enlarge: true, padding: { top: 500, right: 500, bottom: 500, left: 500 } },
    ]) {
      const p = plan(overrides);
      const size = outputSize(computeGeometry({ width: 64, height: 48 }, p, 8192, 16_777_216), p);
      assert.ok(size.width * size.height <= 16_777_216, `${JSON.stringify(overrides)} → ${size.width}×${size.height}`);
      assert.ok(size.width * size.height > 16_777_216 * 0.9, `still close to the limit: ${size.width}×${size.height}`);
    }
  });

  it('renders a 3 KB source asked for 8192² at no more than the limit, AVIF and GIF at their own', async () => {
    const source = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#48c' } })
      .jpeg()
      .toBuffer();
    const jpeg = await render(source, huge, 'jpeg', { maxResultPixels: 1_000_000 });
    assert.ok(jpeg.width * jpeg.height <= 1_000_000 && jpeg.width * jpeg.height > 900_000, `${jpeg.width}×${jpeg.height}`);
    const avif = await render(source, huge, 'avif', { maxResultPixels: 1_000_000, formatMaxResultPixels: { avif: 250_000 } });
    assert.ok(avif.width * avif.height <= 250_000, `${avif.width}×${avif.height}`);
  });
});

describe('filter strengths', () => {
  it('caps blur at half the longest side of the result and at the absolute limit', () => {
    assert.equal(sigmaCap({ width: 100, height: 40 }, 100), 50);
    assert.equal(sigmaCap({ width: 4000, height: 3000 }, 100), 100);
  });

  it('a blur beyond the cap gives the same picture as the cap', async () => {
    const source = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#f00' } })
      .composite([{ input: { create: { width: 20, height: 30, channels: 3, background: '#00f' } }, left: 20, top: 0 }])
      .png()
      .toBuffer();
    const capped = await render(source, { blur: 20 }, 'png');
    const beyond = await render(source, { blur: 90 }, 'png', { maxBlurSigma: 1000 });
    assert.deepEqual(beyond.data, capped.data);
  });

  it('a pixelate block beyond the image gives the same picture as one block the size of the image', async () => {
    const source = await sharp({ create: { width: 50, height: 10, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 60 } } })
      .png()
      .toBuffer();
    const side = await render(source, { pixelate: 50 }, 'png');
    const enormous = await render(source, { pixelate: 1_000_000_000 }, 'png');
    assert.equal(enormous.width, 50);
    assert.deepEqual(enormous.data, side.data);
  });
});

describe('render deadline', () => {
  it('stops libvips itself: a blur worth ~a minute of CPU ends with 503 soon after the deadline', async () => {
    const source = await sharp({ create: { width: 1024, height: 1024, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
      .png()
      .toBuffer();
    const before = cpuMs();
    await assert.rejects(render(source, { blur: 1000 }, 'png', { maxBlurSigma: 1000 }, Date.now() + 1000), status(503, /^processing timed out$/));
    const spent = cpuMs() - before;
    // Unbounded this blur takes ~50 s of CPU here; the deadline (1 s) plus sharp's whole-second
    // granularity allow about 2 s. CPU time never grows when the machine is busy, wall time would.
    assert.ok(spent < 10_000, `spent ${Math.round(spent)} ms of CPU`);
  });

  it('does not start a render whose time is already up', async () => {
    const source = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } })
      .png()
      .toBuffer();
    await assert.rejects(render(source, { width: 4 }, 'png', {}, Date.now() - 1), status(503));
    const ok = await render(source, { width: 4 }, 'png', {}, Date.now() + 10_000);
    assert.equal(ok.width, 4);
  });
});

describe('per-client queueing', () => {
  it('bounds each client’s running and waiting jobs (429 client_busy) while others still get slots', async () => {
    const refused: RefusalReason[] = [];
    const limiter = createLimiter({
      concurrency: 2,
      queueSize: 10,
      retryAfterSeconds: 2,
      clientConcurrency: 1,
      clientQueueSize: 1,
      onRefused: (r) => refused.push(r),
    });
    const gate = deferred();
    const job = (): Promise<string> => gate.promise.then(() => 'done');
    const first = limiter.run(job, undefined, 'sub:mallory');
    const second = limiter.run(job, undefined, 'sub:mallory'); // waits: mallory already runs one
    assert.equal(limiter.active, 1);
    assert.equal(limiter.waiting, 1);
    await assert.rejects(limiter.run(job, undefined, 'sub:mallory'), (error: unknown) => {
      assert.ok(error instanceof PublicError && error.status === 429);
      assert.deepEqual(error.headers, { 'Retry-After': '2' });
      return true;
    });
    assert.deepEqual(refused, ['client_busy']);
    // the other slot is alice's at once
    const alice = limiter.run(async () => 'alice', undefined, 'sub:alice');
    assert.equal(await alice, 'alice');
    gate.resolve();
    assert.deepEqual(await Promise.all([first, second]), ['done', 'done']);
    assert.equal(limiter.active, 0);
    assert.equal(limiter.waiting, 0);
  });

  it('hands free slots round-robin: a newcomer waits behind one job of a flooding client, not its backlog', async () => {
    const limiter = createLimiter({ concurrency: 1, queueSize: 10, retryAfterSeconds: 1, clientConcurrency: 1, clientQueueSize: 10 });
    const order: string[] = [];
    const gates = [deferred(), deferred(), deferred(), deferred(), deferred()];
    const job = (name: string, gate: { promise: Promise<void> }) => async (): Promise<void> => {
      order.push(name);
      await gate.promise;
    };
    const runs = [
      limiter.run(job('m1', gates[0]!), undefined, 'm'),
      limiter.run(job('m2', gates[1]!), undefined, 'm'),
      limiter.run(job('m3', gates[2]!), undefined, 'm'),
      limiter.run(job('m4', gates[3]!), undefined, 'm'),
      limiter.run(job('a1', gates[4]!), undefined, 'a'),
    ];
    for (const gate of gates) {
      gate.resolve();
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(runs);
    assert.deepEqual(order.slice(0, 3), ['m1', 'm2', 'a1']);
  });

  it('keeps the slot until the task really ends, even after its answer was given up', async () => {
    const limiter = createLimiter({ concurrency: 1, queueSize: 0, retryAfterSeconds: 1 });
    const gate = deferred();
    const controller = new AbortController();
    const running = limiter.run(() => gate.promise, controller.signal, 'x');
    controller.abort(); // the client left / the deadline answered 503
    await assert.rejects(
      limiter.run(async () => 1, undefined, 'y'),
      status(429),
    );
    gate.resolve();
    await running;
    assert.equal(await limiter.run(async () => 1, undefined, 'y'), 1);
  });
});

describe('per-client render budget', () => {
  it('spends one token per render, refuses with 429 + Retry-After when empty, per client, and refills', async () => {
    let now = 1_000_000;
    let exhausted = 0;
    const budget = createRenderBudget(
      createMemoryRateLimiter({ requestsPerSecond: 0.5, burst: 3 }, () => now),
      silent,
      () => (exhausted += 1),
    );
    for (let i = 0; i < 3; i++) await budget.spend('sub:mallory');
    await assert.rejects(budget.spend('sub:mallory'), (error: unknown) => {
      assert.ok(error instanceof PublicError && error.status === 429);
      assert.equal(error.reason, 'render budget exhausted');
      assert.deepEqual(error.headers, { 'Retry-After': '2' });
      return true;
    });
    assert.equal(exhausted, 1);
    await budget.spend('sub:alice'); // another client's bucket is untouched
    now += 2000;
    await budget.spend('sub:mallory');
  });

  it('lets renders through when the bucket store fails (the concurrency limits still hold)', async () => {
    const budget = createRenderBudget({ take: () => Promise.reject(new Error('redis down')) }, silent);
    await budget.spend('sub:alice');
  });
});

describe('worker ticket client', () => {
  const secret = 'worker-secret-0123456789abcdef0123456789';
  const base = {
    plan: DEFAULT_PLAN,
    source: { kind: 'store', store: 'p', segments: ['a.jpg'] },
    format: 'webp',
    cacheKey: 'a'.repeat(64),
    expires: Date.now() / 1000 + 60,
  } as const;

  it('carries the signed client; a ticket without one shares the "unknown" bucket', () => {
    assert.equal(verifyTicket(signTicket({ ...base, client: 'sub:alice' }, secret), secret)?.client, 'sub:alice');
    assert.equal(verifyTicket(signTicket(base, secret), secret)?.client, 'unknown');
  });
});

describe('limit settings', () => {
  const stores = { docs: { type: 'fs', root: '/srv/docs' } };

  it('are validated at start-up, naming the key', () => {
    const message = configError(() =>
      validateConfig({
        stores,
        worker: {
          concurrency: 2,
          clientConcurrency: 3,
          queueSize: 4,
          clientQueueSize: 5,
          renderBudget: { rendersPerSecond: 0, burst: 0 },
          limits: { maxResultPixels: 0, maxBlurSigma: 5000, formatMaxResultPixels: { avif: -1, tiff: 5 } },
        },
      }),
    );
    assert.match(message, /worker\.clientConcurrency \(SLUICE_WORKER__CLIENT_CONCURRENCY\): must not exceed worker\.concurrency \(2\)/);
    assert.match(message, /worker\.renderBudget\.rendersPerSecond/);
    assert.match(message, /worker\.renderBudget\.burst/);
    assert.match(message, /worker\.limits\.maxResultPixels/);
    assert.match(message, /worker\.limits\.maxBlurSigma/);
    assert.match(message, /worker\.limits\.formatMaxResultPixels/);
  });

  it('checks per-client settings against the worker’s own', () => {
    const message = configError(() => validateConfig({ stores, worker: { queueSize: 4, clientQueueSize: 5 } }));
    assert.match(message, /worker\.clientQueueSize \(SLUICE_WORKER__CLIENT_QUEUE_SIZE\): must not exceed worker\.queueSize \(4\)/);
  });

  it('derive the per-client defaults from the worker’s', () => {
    const { worker } = validateConfig({ stores, worker: { concurrency: 4, queueSize: 40 } });
    assert.equal(worker.clientConcurrency, 2);
    assert.equal(worker.clientQueueSize, 10);
    assert.deepEqual(worker.renderBudget, { rendersPerSecond: 2, burst: 60 });
  });
});
