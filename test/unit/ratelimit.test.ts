import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import type { Context } from 'koa';
import type { Subject } from '../../src/auth/types.js';
import type { PublicError } from '../../src/errors.js';
import { clientAddress, rateLimit, rateLimitKey } from '../../src/http/middleware/rate-limit.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMemoryRateLimiter, takeToken, type Bucket } from '../../src/ratelimit/token-bucket.js';
import type { RateLimiter } from '../../src/ratelimit/types.js';

function fakeContext(headers: Record<string, string>, subject?: Subject, remoteAddress = '10.0.0.9'): Context {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { get: (name: string) => lower[name.toLowerCase()] ?? '', req: { socket: { remoteAddress } }, state: { subject } } as unknown as Context;
}

describe('token bucket', () => {
  const settings = { requestsPerSecond: 1, burst: 3 };

  it('allows a burst, then one request per refill interval', () => {
    let bucket: Bucket | undefined;
    const take = (t: number) => {
      const result = takeToken(bucket, t, settings);
      bucket = result.bucket;
      return result.decision;
    };
    assert.deepEqual(
      [take(0), take(0), take(0)].map((d) => d.allowed),
      [true, true, true],
    );
    assert.deepEqual(take(0), { allowed: false, retryAfterSeconds: 1 });
    assert.equal(take(500).allowed, false);
    assert.equal(take(1000).allowed, true);
    assert.equal(take(1000).allowed, false);
    // A long pause refills to the burst, never beyond it.
    assert.deepEqual(
      [take(60_000), take(60_000), take(60_000), take(60_000)].map((d) => d.allowed),
      [true, true, true, false],
    );
  });

  it('rounds Retry-After up to whole seconds at slow rates', () => {
    const slow = { requestsPerSecond: 0.25, burst: 1 };
    const first = takeToken(undefined, 0, slow);
    assert.equal(first.decision.allowed, true);
    assert.deepEqual(takeToken(first.bucket, 1000, slow).decision, { allowed: false, retryAfterSeconds: 3 });
  });

  it('keeps one bucket per key in memory', async () => {
    let now = 0;
    const limiter = createMemoryRateLimiter({ requestsPerSecond: 1, burst: 1 }, () => now);
    assert.equal((await limiter.take('a')).allowed, true);
    assert.equal((await limiter.take('a')).allowed, false);
    assert.equal((await limiter.take('b')).allowed, true);
    now = 1000;
    assert.equal((await limiter.take('a')).allowed, true);
  });
});

describe('rate limit keys', () => {
  it('uses the subject, the share link, or the address nginx saw', () => {
    assert.equal(rateLimitKey(fakeContext({}, { authenticated: true, id: 'alice', claims: {} })), 'sub:alice');
    const link: Subject = {
      authenticated: false,
      id: null,
      claims: {},
      via: 'share-link',
      share: { linkId: 'L1', store: 'd', key: 'k', expiresAt: 0, creator: { authenticated: true, id: 'alice', claims: {} } },
    };
    assert.equal(rateLimitKey(fakeContext({}, link)), 'link:L1');
    assert.equal(rateLimitKey(fakeContext({ 'X-Forwarded-For': '1.1.1.1' }, { authenticated: true, id: null, claims: {} })), 'ip:1.1.1.1');
  });

  it('trusts only the last X-Forwarded-For entry (the one nginx appended)', () => {
    assert.equal(clientAddress(fakeContext({ 'X-Forwarded-For': '6.6.6.6, 203.0.113.7' })), '203.0.113.7');
    assert.equal(clientAddress(fakeContext({ 'X-Real-IP': '198.51.100.2' })), '198.51.100.2');
    assert.equal(clientAddress(fakeContext({})), '10.0.0.9');
  });
});

describe('rate limit middleware', () => {
  const lines: string[] = [];
  const logger = createLogger(
    'info',
    new Writable({
      write: (chunk: Buffer, _e, done) => {
        lines.push(chunk.toString());
        done();
      },
    }),
  );

  it('answers 429 with Retry-After when the bucket is empty', async () => {
    const middleware = rateLimit(createMemoryRateLimiter({ requestsPerSecond: 0.5, burst: 1 }), logger);
    const ctx = fakeContext({ 'X-Forwarded-For': '192.0.2.1' });
    let passed = 0;
    await middleware(ctx, async () => void passed++);
    await assert.rejects(
      middleware(ctx, async () => void passed++),
      (e: PublicError) => e.status === 429 && e.headers['Retry-After'] === '2',
    );
    assert.equal(passed, 1);
  });

  it('lets requests through when its store fails, logging the outage once', async () => {
    let failing = true;
    const limiter: RateLimiter = {
      async take() {
        if (failing) throw new Error('connection refused');
        return { allowed: true, retryAfterSeconds: 0 };
      },
    };
    const middleware = rateLimit(limiter, logger);
    let passed = 0;
    for (let i = 0; i < 3; i++) await middleware(fakeContext({}), async () => void passed++);
    assert.equal(passed, 3);
    assert.equal(lines.filter((l) => l.includes('rate limiter unavailable')).length, 1);
    failing = false;
    await middleware(fakeContext({}), async () => void passed++);
    assert.equal(lines.filter((l) => l.includes('rate limiter recovered')).length, 1);
  });
});
