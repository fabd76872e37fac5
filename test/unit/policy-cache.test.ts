// The decision cache: bounded LRU with TTL, scope lookup, TTL policy, and coalesced misses.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ANONYMOUS, type Subject } from '../../src/auth/types.js';
import { createLogger } from '../../src/observability/logger.js';
import type { AuthorityAnswer } from '../../src/policy/authority.js';
import { candidateScopes, withDecisionCache, type AskAuthority } from '../../src/policy/cached-ask.js';
import { MemoryDecisionCache } from '../../src/policy/decision-cache.js';
import type { AccessRequest } from '../../src/policy/types.js';

const logger = createLogger('silent');
const alice: Subject = { authenticated: true, id: 'alice', claims: { sub: 'alice' } };
const bob: Subject = { authenticated: true, id: 'bob', claims: { sub: 'bob' } };

function request(keyValue: string, action: AccessRequest['action'] = 'read', store = 'media'): AccessRequest {
  return { store, key: { segments: keyValue.split('/'), value: keyValue }, action };
}

/** A fake clock plus a counting authority whose answer a test can change. */
function harness(answer: (req: AccessRequest) => AuthorityAnswer, ttl = { defaultSeconds: 30, maxSeconds: 300 }) {
  let now = 1_000_000;
  const calls: string[] = [];
  const cache = new MemoryDecisionCache(1000, () => now);
  const ask: AskAuthority = async (req) => {
    calls.push(req.key.value);
    return answer(req);
  };
  const cached = withDecisionCache(ask, { authority: 'webhook', cache, ttl, logger });
  return { cache, calls, cached, advance: (ms: number) => (now += ms) };
}

describe('memory decision cache', () => {
  it('evicts the least recently used entry beyond maxEntries', async () => {
    const cache = new MemoryDecisionCache(2);
    const answer = { effect: 'allow', ttlSeconds: 60 } as const;
    await cache.store('g', 'a', answer);
    await cache.store('g', 'b', answer);
    assert.notEqual(await cache.lookup('g', ['a']), null); // "a" is now the most recent
    await cache.store('g', 'c', answer);
    assert.equal(cache.size, 2);
    assert.equal(await cache.lookup('g', ['b']), null);
    assert.notEqual(await cache.lookup('g', ['a']), null);
    assert.notEqual(await cache.lookup('g', ['c']), null);
  });

  it('expires entries after their TTL and drops them', async () => {
    let now = 0;
    const cache = new MemoryDecisionCache(10, () => now);
    await cache.store('g', 'a', { effect: 'deny', ttlSeconds: 5 });
    now = 4_999;
    assert.deepEqual(await cache.lookup('g', ['a']), { effect: 'deny', ttlSeconds: 5 });
    now = 5_000;
    assert.equal(await cache.lookup('g', ['a']), null);
    assert.equal(cache.size, 0);
  });

  it('stores nothing with maxEntries 0 or a zero TTL; groups never mix', async () => {
    const off = new MemoryDecisionCache(0);
    await off.store('g', 'a', { effect: 'allow', ttlSeconds: 60 });
    assert.equal(off.size, 0);
    const cache = new MemoryDecisionCache(10);
    await cache.store('g', 'a', { effect: 'allow', ttlSeconds: 0 });
    await cache.store('g1', 'a', { effect: 'allow', ttlSeconds: 60 });
    assert.equal(await cache.lookup('g', ['a']), null);
    assert.equal((await cache.lookup('g1', ['b', 'a'])) !== null, true);
  });
});

describe('scopes', () => {
  it('lists the key and every whole-segment prefix, most specific first', () => {
    assert.deepEqual(candidateScopes(request('media/pkg-1/tracks/a.mp4').key), ['media/pkg-1/tracks/a.mp4', 'media/pkg-1/tracks', 'media/pkg-1', 'media']);
    assert.deepEqual(candidateScopes(request('one.txt').key), ['one.txt']);
  });

  it('one answer with a scope covers its siblings, not lookalike neighbours', async () => {
    const h = harness(() => ({ effect: 'allow', scope: 'media/pkg-1/' }));
    for (let i = 0; i < 30; i += 1) assert.equal((await h.cached(request(`media/pkg-1/seg-${i}.ts`), alice, {})).effect, 'allow');
    assert.equal(h.calls.length, 1);
    const first = await h.cached(request('media/pkg-1/seg-0.ts'), alice, {});
    assert.equal(first.cacheHit, true);
    await h.cached(request('media/pkg-10/seg-0.ts'), alice, {}); // "pkg-1" is not a prefix of "pkg-10"
    assert.equal(h.calls.length, 2);
  });

  it('is keyed by subject, action and store', async () => {
    const h = harness(() => ({ effect: 'allow', scope: 'media/pkg-1' }));
    await h.cached(request('media/pkg-1/a'), alice, {});
    await h.cached(request('media/pkg-1/a'), bob, {});
    await h.cached(request('media/pkg-1/a', 'head'), alice, {});
    await h.cached(request('media/pkg-1/a', 'read', 'other'), alice, {});
    await h.cached(request('media/pkg-1/a'), ANONYMOUS, {});
    assert.equal(h.calls.length, 5);
    await h.cached(request('media/pkg-1/b'), bob, {});
    await h.cached(request('media/pkg-1/b'), ANONYMOUS, {});
    assert.equal(h.calls.length, 5);
  });

  it('a scope that does not contain the key covers the key only', async () => {
    const h = harness(() => ({ effect: 'allow', scope: 'media/other' }));
    await h.cached(request('media/pkg-1/a'), alice, {});
    await h.cached(request('media/pkg-1/b'), alice, {});
    await h.cached(request('media/pkg-1/a'), alice, {});
    assert.deepEqual(h.calls, ['media/pkg-1/a', 'media/pkg-1/b']);
  });

  it('the most specific entry wins (a denied file inside an allowed package)', async () => {
    const h = harness((req) => (req.key.value.endsWith('secret') ? { effect: 'deny' } : { effect: 'allow', scope: 'media/pkg-1' }));
    assert.equal((await h.cached(request('media/pkg-1/secret'), alice, {})).effect, 'deny');
    assert.equal((await h.cached(request('media/pkg-1/a'), alice, {})).effect, 'allow');
    const again = await h.cached(request('media/pkg-1/secret'), alice, {});
    assert.deepEqual([again.effect, again.cacheHit], ['deny', true]);
  });
});

describe('TTL policy', () => {
  it('uses the answer TTL, the default when absent, capped by the maximum', async () => {
    let ttl: number | undefined = 5;
    const h = harness(() => ({ effect: 'allow', ...(ttl !== undefined ? { ttlSeconds: ttl } : {}) }), { defaultSeconds: 20, maxSeconds: 60 });
    assert.equal((await h.cached(request('a'), alice, {})).ttlSeconds, 5);
    h.advance(5_000);
    ttl = undefined;
    assert.equal((await h.cached(request('a'), alice, {})).ttlSeconds, 20);
    h.advance(20_000);
    ttl = 3600;
    assert.equal((await h.cached(request('a'), alice, {})).ttlSeconds, 60);
    h.advance(59_999);
    assert.equal((await h.cached(request('a'), alice, {})).cacheHit, true);
    h.advance(1);
    assert.equal((await h.cached(request('a'), alice, {})).cacheHit, false);
    assert.equal(h.calls.length, 4);
  });

  it('TTL 0 is never cached; tokens without sub are never cached', async () => {
    const h = harness(() => ({ effect: 'allow', ttlSeconds: 0 }));
    await h.cached(request('a'), alice, {});
    await h.cached(request('a'), alice, {});
    const noSub: Subject = { authenticated: true, id: null, claims: {} };
    const g = harness(() => ({ effect: 'allow', ttlSeconds: 60 }));
    await g.cached(request('a'), noSub, {});
    const second = await g.cached(request('a'), noSub, {});
    assert.equal(h.calls.length, 2);
    assert.equal(g.calls.length, 2);
    assert.equal(second.cacheHit, false);
  });
});

describe('concurrent misses', () => {
  it('wait for the call in flight: 30 parallel files of one package → 1 call', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const calls: string[] = [];
    const cached = withDecisionCache(
      async (req) => {
        calls.push(req.key.value);
        await gate;
        return { effect: 'allow', scope: 'media/pkg-1' };
      },
      { authority: 'webhook', cache: new MemoryDecisionCache(100), ttl: { defaultSeconds: 30, maxSeconds: 300 }, logger },
    );
    const pending = Array.from({ length: 30 }, (_, i) => cached(request(`media/pkg-1/${i}.ts`), alice, {}));
    await new Promise((resolve) => setImmediate(resolve));
    release();
    const verdicts = await Promise.all(pending);
    assert.equal(calls.length, 1);
    assert.ok(verdicts.every((v) => v.effect === 'allow'));
    assert.equal(verdicts.filter((v) => v.cacheHit).length, 29);
  });

  it('a failed call makes each waiter ask for itself, and the failure is not cached', async () => {
    let fail = true;
    let calls = 0;
    const cached = withDecisionCache(
      async () => {
        calls += 1;
        if (fail) throw new Error('down');
        return { effect: 'allow' };
      },
      { authority: 'webhook', cache: new MemoryDecisionCache(100), ttl: { defaultSeconds: 30, maxSeconds: 300 }, logger },
    );
    const results = await Promise.allSettled([cached(request('a/1'), alice, {}), cached(request('a/2'), alice, {})]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected'],
    );
    assert.equal(calls, 2);
    fail = false;
    assert.equal((await cached(request('a/1'), alice, {})).effect, 'allow');
  });
});
