// The key-value state's contract (src/state/kv.ts), one spec run against both adapters: memory
// (injected clock) and a real redis-server. Then what only one of them does: memory's bounds,
// Redis's confirmed (durable) writes and its fail-fast behaviour when unreachable.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { KeyValueState } from '../../src/state/kv.js';
import { MemoryKeyValueState } from '../../src/state/memory-kv.js';
import { createRedis, whenReady } from '../../src/state/redis.js';
import { RedisKeyValueState, UnconfirmedWriteError } from '../../src/state/redis-kv.js';
import { redisUrlSettings, type RedisSettings } from '../../src/state/settings.js';
import { startRedis, type RedisTestServer } from '../helpers/redis.js';

interface Adapter {
  readonly name: string;
  /** A fresh, empty state. */
  create(): Promise<KeyValueState>;
  /** Proves `key` is gone `ms` from now and not a millisecond earlier (memory: the clock; Redis: its PTTL). */
  expiresIn(state: KeyValueState, key: string, ms: number): Promise<void>;
}

let server: RedisTestServer;
let raw: Redis;
const closers: (() => void)[] = [];
let namespace = 0;

before(async () => {
  server = await startRedis();
  raw = new Redis(server.url);
});

after(async () => {
  for (const close of closers) close();
  raw?.disconnect();
  await server?.stop();
});

function redisState(settings: Partial<RedisSettings> = {}): { state: RedisKeyValueState; prefix: string; ready: Promise<boolean> } {
  const connection = createRedis({ ...redisUrlSettings(server.url), ...settings });
  closers.push(() => connection.client.disconnect());
  const prefix = `test:${(namespace += 1)}:`;
  const state = new RedisKeyValueState(connection, prefix);
  prefixes.set(state, prefix);
  return { state, prefix, ready: whenReady(connection.client) };
}

const prefixes = new WeakMap<KeyValueState, string>();

const clocks = new WeakMap<KeyValueState, { now: number }>();

const adapters: Adapter[] = [
  {
    name: 'memory',
    async create() {
      const clock = { now: 1_000_000 };
      const state = new MemoryKeyValueState({ maxEntries: 1000, now: () => clock.now });
      clocks.set(state, clock);
      return state;
    },
    async expiresIn(state, key, ms) {
      const clock = clocks.get(state) as { now: number };
      clock.now += ms - 1;
      assert.notEqual(await state.get(key), null, 'still there a millisecond before');
      clock.now += 1;
      assert.equal(await state.get(key), null, 'gone at its expiry');
    },
  },
  {
    name: 'redis',
    async create() {
      const { state, ready } = redisState();
      assert.equal(await ready, true);
      return state;
    },
    async expiresIn(state, key, ms) {
      const pttl = await raw.pttl((prefixes.get(state) as string) + key);
      assert.ok(pttl > ms - 1000 && pttl <= ms, `PTTL ${pttl} ≈ ${ms}`);
    },
  },
];

for (const adapter of adapters) {
  describe(`key-value state: ${adapter.name}`, () => {
    it('keeps a value until its TTL, or until an absolute expiry', async () => {
      const state = await adapter.create();
      await state.set('a', 'one', { ttlSeconds: 30 });
      assert.equal(await state.get('a'), 'one');
      await adapter.expiresIn(state, 'a', 30_000);
      const inAMinute = (adapter.name === 'memory' ? (clocks.get(state) as { now: number }).now : Date.now()) / 1000 + 60;
      await state.set('b', 'two', { at: inAMinute });
      await adapter.expiresIn(state, 'b', 60_000);
    });

    it('does not store what has already expired', async () => {
      const state = await adapter.create();
      await state.set('a', 'one', { at: 1 });
      assert.equal(await state.get('a'), null);
      assert.equal(await state.setIfAbsent('b', 'two', { ttlSeconds: 0 }), false);
      assert.equal(await state.get('b'), null);
    });

    it('reads several keys in one call, in order, null for the missing ones', async () => {
      const state = await adapter.create();
      await state.set('{g}:a', '1', null);
      await state.set('{g}:c', '3', { ttlSeconds: 60 });
      assert.deepEqual(await state.getMany(['{g}:a', '{g}:b', '{g}:c']), ['1', null, '3']);
      assert.deepEqual(await state.getMany([]), []);
    });

    it('sets if absent: the first caller holds the key until it is deleted', async () => {
      const state = await adapter.create();
      assert.equal(await state.setIfAbsent('k', 'first', { ttlSeconds: 60 }), true);
      assert.equal(await state.setIfAbsent('k', 'second', { ttlSeconds: 60 }), false);
      assert.equal(await state.get('k'), 'first');
      await state.delete('k');
      assert.equal(await state.setIfAbsent('k', 'third', null), true);
      assert.equal(await state.get('k'), 'third');
    });

    it('counts up to a limit, atomically: concurrent callers never exceed it', async () => {
      const state = await adapter.create();
      const results = await Promise.all(Array.from({ length: 20 }, () => state.incrementBelow('uses', 5, { ttlSeconds: 60 })));
      assert.equal(results.filter(Boolean).length, 5);
      assert.equal(await state.counter('uses'), 5);
      assert.equal(await state.counter('never'), 0);
      await adapter.expiresIn(state, 'uses', 60_000);
    });

    it('takes tokens from a bucket: burst first, then refused with a Retry-After', async () => {
      const state = await adapter.create();
      const settings = { requestsPerSecond: 0.5, burst: 2 };
      assert.deepEqual(await state.takeToken('b', settings), { allowed: true, retryAfterSeconds: 0 });
      assert.deepEqual(await state.takeToken('b', settings), { allowed: true, retryAfterSeconds: 0 });
      const refused = await state.takeToken('b', settings);
      assert.equal(refused.allowed, false);
      assert.ok(refused.retryAfterSeconds >= 1 && refused.retryAfterSeconds <= 2, String(refused.retryAfterSeconds));
      assert.equal((await state.takeToken('other', settings)).allowed, true, 'buckets are per key');
    });
  });
}

describe('key-value state: memory bounds', () => {
  it('a bounded store forgets the least recently used entry beyond maxEntries', async () => {
    const state = new MemoryKeyValueState({ maxEntries: 2 });
    await state.set('a', '1', null);
    await state.set('b', '2', null);
    assert.equal(await state.get('a'), '1');
    await state.set('c', '3', null);
    assert.deepEqual(await state.getMany(['a', 'b', 'c']), ['1', null, '3']);
  });

  it('a store bounded by time only never forgets an entry before its expiry, however many there are', async () => {
    let now = 0;
    const state = new MemoryKeyValueState({ maxEntries: null, now: () => now });
    for (let i = 0; i < 5000; i += 1) await state.set(`revoked:${i}`, '1', { ttlSeconds: 3600 });
    assert.equal(state.size, 5000);
    assert.equal(await state.get('revoked:0'), '1');
    now = 3_600_000;
    assert.equal(await state.get('revoked:0'), null);
  });

  it('maxEntries 0 keeps nothing', async () => {
    const state = new MemoryKeyValueState({ maxEntries: 0 });
    await state.set('a', '1', null);
    assert.equal(await state.get('a'), null);
  });
});

describe('key-value state: Redis durable writes', () => {
  it('a write no replica confirms is refused, and a counted use is given back', async () => {
    // A lone redis-server has no replica: asking for one confirmation must fail, not hang.
    const { state, ready } = redisState({ waitForReplicas: 1, waitTimeoutMs: 50 });
    assert.equal(await ready, true);
    await assert.rejects(state.incrementBelow('uses', 1, { ttlSeconds: 60 }, { durable: true }), UnconfirmedWriteError);
    assert.equal(await state.counter('uses'), 0, 'the unconfirmed use was given back');
    await assert.rejects(state.set('revoked', '1', { ttlSeconds: 60 }, { durable: true }), UnconfirmedWriteError);
    assert.equal(await state.get('revoked'), '1', 'kept on the primary all the same (the caller retries)');
    assert.equal(await state.incrementBelow('uses', 1, { ttlSeconds: 60 }), true, 'not durable: no confirmation asked');
    assert.equal(await state.incrementBelow('uses', 1, { ttlSeconds: 60 }, { durable: true }), false, 'a refused use wrote nothing: nothing to confirm');
  });

  it('with no replica to wait for, a durable write is a plain write', async () => {
    const { state, ready } = redisState();
    assert.equal(await ready, true);
    assert.equal(await state.incrementBelow('uses', 1, null, { durable: true }), true);
    assert.equal(await state.incrementBelow('uses', 1, null, { durable: true }), false);
  });

  it('rejects at once while Redis is unreachable (nothing is queued)', async () => {
    const gone = await startRedis();
    const connection = createRedis(redisUrlSettings(gone.url));
    connection.client.on('error', () => undefined); // reconnect attempts; the rejections are what counts
    closers.push(() => connection.client.disconnect());
    assert.equal(await whenReady(connection.client), true);
    const state = new RedisKeyValueState(connection, 'test:gone:');
    await gone.stop();
    const started = Date.now();
    await assert.rejects(state.get('a'));
    await assert.rejects(state.incrementBelow('uses', 1, null, { durable: true }));
    assert.ok(Date.now() - started < 1000, 'failed fast');
  });
});
