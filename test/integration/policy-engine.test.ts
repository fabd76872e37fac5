// The authorization engine through real nginx: rules, the example tenant-isolation plugin, a
// real HTTP server playing the host app's webhook, the decision cache in memory and shared by
// two Sluice instances through a real Redis, and per-rule bandwidth (X-Accel-Limit-Rate).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { download, request } from '../helpers/http.js';
import { startRedis, type RedisTestServer } from '../helpers/redis.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { bearer, testAuthConfig } from '../helpers/tokens.js';

const PLUGIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples/plugins/tenant-isolation.ts');
const THROTTLED_BYTES = 256 * 1024;

/** The host app: answers by key prefix and records every call. */
interface HostCall {
  readonly subject: string | null;
  readonly key: string;
  readonly action: string;
}
const hostCalls: HostCall[] = [];
let host: http.Server;

function hostAnswer(key: string, res: http.ServerResponse): void {
  const [top, second] = key.split('/');
  const send = (status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  if (top === 'pkg') return send(200, { allow: true, ttlSeconds: 60, scope: `pkg/${second}` });
  if (top === 'short') return send(200, { allow: true, ttlSeconds: 1 });
  if (top === 'denied') return send(200, { allow: false, ttlSeconds: 60 });
  if (top === 'broken') return send(500, { allow: true });
  if (top === 'slow') return void setTimeout(() => send(200, { allow: true }), 3000).unref();
  return send(200, { allow: true, ttlSeconds: 60 });
}

const callsFor = (prefix: string): number => hostCalls.filter((c) => c.key.startsWith(prefix)).length;

let root: string;
let redis: RedisTestServer;
let shared1: Stack; // Redis-backed cache
let shared2: Stack; // a second instance on the same Redis
let memory: Stack; // no Redis: in-memory cache
let tokens: Record<'acme' | 'globex' | 'editor' | 'viewer', Record<string, string>>;

function config(webhookUrl: string, redisUrl?: string): Record<string, unknown> {
  return {
    stores: { docs: { type: 'fs', root } },
    auth: testAuthConfig,
    ...(redisUrl !== undefined ? { redisUrl } : {}),
    policy: {
      rolesClaim: 'realm_access.roles',
      plugins: [{ module: PLUGIN, options: { claim: 'tenant' } }],
      webhook: { url: webhookUrl, timeoutMs: 500 },
    },
    rules: [
      { id: 'no-drafts', key: 'pkg/:pkg/drafts/*rest', effect: 'deny' },
      { id: 'tenants', effect: 'delegate', to: 'tenant-isolation' },
      { id: 'tenant-public', key: 'tenants/:tenant/public/*rest', when: [{ public: true }] },
      { id: 'own-folder', key: 'users/:owner/*rest', when: [{ claim: 'sub', equalsParam: 'owner' }] },
      { id: 'editors', key: 'staff/*rest', when: [{ role: 'editor' }] },
      { id: 'published', key: 'press/*rest', when: [{ public: true }, { time: { after: '2000-01-01T00:00:00Z' } }] },
      { id: 'embargoed', key: 'future/*rest', when: [{ public: true }, { time: { after: '2999-01-01T00:00:00Z' } }] },
      { id: 'throttled', key: 'throttled/*rest', limitRate: '64k', when: [{ authenticated: true }] },
      { id: 'host-app', effect: 'delegate', to: 'webhook', when: [{ authenticated: true }] },
    ],
  };
}

async function put(key: string, content: string | Buffer): Promise<void> {
  const file = path.join(root, ...key.split('/'));
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
}

function get(stack: Stack, key: string, headers: Record<string, string> = {}) {
  return request(stack.port, `/files/docs/${key}`, { headers });
}

function auditFor(stack: Stack, key: string): Record<string, unknown> {
  const line = stack
    .logs()
    .filter((l) => (l.audit as { key?: string } | undefined)?.key === key)
    .at(-1);
  assert.ok(line !== undefined, `an audit line for ${key}`);
  return line.audit as Record<string, unknown>;
}

before(async () => {
  const base = await mkdtemp(path.join(os.tmpdir(), 'sluice-policy-'));
  await chmod(base, 0o755);
  root = path.join(base, 'store');
  for (const pkg of ['p1', 'p2', 'p3']) for (let i = 0; i < 30; i += 1) await put(`pkg/${pkg}/seg-${i}.ts`, `${pkg} segment ${i}`);
  for (const key of [
    'pkg/p1/drafts/x.txt',
    'short/a.txt',
    'denied/a.txt',
    'broken/a.txt',
    'slow/a.txt',
    'cross/a.txt',
    'cross/b.txt',
    'fallback/a.txt',
    'late/a.txt',
  ]) {
    await put(key, `content of ${key}`);
  }
  for (const key of [
    'tenants/acme/report.txt',
    'tenants/globex/report.txt',
    'tenants/acme/public/logo.txt',
    'users/alice/notes.txt',
    'users/bob/notes.txt',
    'staff/handbook.txt',
    'press/release.txt',
    'future/release.txt',
  ]) {
    await put(key, `content of ${key}`);
  }
  await put('throttled/big.bin', Buffer.alloc(THROTTLED_BYTES, 7));

  host = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw) as HostCall;
      hostCalls.push({ subject: body.subject, key: body.key, action: body.action });
      hostAnswer(body.key, res);
    });
  });
  await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
  const webhookUrl = `http://127.0.0.1:${(host.address() as AddressInfo).port}/sluice/authorize`;

  redis = await startRedis();
  shared1 = await startStack(config(webhookUrl, redis.url));
  shared2 = await startStack(config(webhookUrl, redis.url));
  memory = await startStack(config(webhookUrl));
  tokens = {
    acme: await bearer('alice', { tenant: 'acme' }),
    globex: await bearer('bob', { tenant: 'globex' }),
    editor: await bearer('erin', { realm_access: { roles: ['editor'] } }),
    viewer: await bearer('vic', { realm_access: { roles: ['viewer'] } }),
  };
});

after(async () => {
  await shared1?.stop();
  await shared2?.stop();
  await memory?.stop();
  await redis?.stop();
  host?.closeAllConnections();
  if (host !== undefined) await new Promise((resolve) => host.close(resolve));
  if (root !== undefined) await rm(path.dirname(root), { recursive: true, force: true });
});

describe('rules through nginx', () => {
  it('binds path parameters to claims, reads roles from the configured claim path, honours time windows', async () => {
    const cases: [key: string, who: Record<string, string>, status: number][] = [
      ['users/alice/notes.txt', tokens.acme, 200],
      ['users/bob/notes.txt', tokens.acme, 200], // own-folder does not apply → the webhook allows (authenticated)
      ['users/alice/notes.txt', {}, 401],
      ['staff/handbook.txt', tokens.editor, 200],
      ['press/release.txt', {}, 200],
      ['future/release.txt', {}, 401],
    ];
    for (const [key, who, status] of cases) {
      const res = await get(memory, key, who);
      assert.equal(res.status, status, `${key}: ${res.text()}`);
      if (status === 200) assert.equal(res.text(), `content of ${key}`);
    }
    assert.equal(auditFor(memory, 'staff/handbook.txt').rule, 'editors');
    assert.equal(auditFor(memory, 'users/bob/notes.txt').source, 'webhook');
  });

  it('an explicit deny placed before the delegate rules wins without asking anyone', async () => {
    const before = hostCalls.length;
    const res = await get(memory, 'pkg/p1/drafts/x.txt', tokens.acme);
    assert.equal(res.status, 403);
    assert.deepEqual(res.json(), { error: 'forbidden' });
    assert.equal(hostCalls.length, before);
    assert.deepEqual([auditFor(memory, 'pkg/p1/drafts/x.txt').rule, auditFor(memory, 'pkg/p1/drafts/x.txt').source], ['no-drafts', 'rule']);
  });
});

describe('example plugin (tenant isolation) loaded from config', () => {
  it('allows the own tenant, denies other tenants, lets anonymous callers fall through', async () => {
    assert.equal((await get(shared1, 'tenants/acme/report.txt', tokens.acme)).text(), 'content of tenants/acme/report.txt');
    assert.equal((await get(shared1, 'tenants/acme/report.txt', tokens.globex)).status, 403);
    assert.equal((await get(shared1, 'tenants/acme/public/logo.txt', tokens.globex)).status, 403);
    assert.equal((await get(shared1, 'tenants/acme/public/logo.txt')).status, 200);
    assert.equal((await get(shared1, 'tenants/globex/report.txt')).status, 401);
    const audit = auditFor(shared1, 'tenants/globex/report.txt');
    assert.deepEqual([audit.source, audit.decision], ['default', 'deny']);
    const denied = shared1
      .logs()
      .filter((l) => (l.audit as { subject?: string } | undefined)?.subject === 'bob')
      .at(-1)?.audit as Record<string, unknown>;
    assert.deepEqual([denied.source, denied.plugin, denied.rule, denied.cacheHit, denied.ttl], ['plugin', 'tenant-isolation', 'tenants', false, 0]);
    assert.equal(callsFor('tenants/'), 0, 'the webhook is never asked for tenant keys');
  });
});

describe('webhook with the in-memory cache', () => {
  it('a cached answer avoids the call; the audit line says so', async () => {
    assert.equal((await get(memory, 'pkg/p1/seg-0.ts', tokens.viewer)).status, 200);
    assert.equal((await get(memory, 'pkg/p1/seg-0.ts', tokens.viewer)).status, 200);
    assert.equal(callsFor('pkg/p1/'), 1);
    const audit = auditFor(memory, 'pkg/p1/seg-0.ts');
    assert.deepEqual([audit.source, audit.rule, audit.cacheHit, audit.ttl], ['webhook', 'host-app', true, 60]);
    assert.equal(hostCalls.find((c) => c.key === 'pkg/p1/seg-0.ts')?.subject, 'vic');
  });

  it('is keyed by subject and action', async () => {
    await get(memory, 'pkg/p1/seg-1.ts', tokens.editor);
    await request(memory.port, '/files/docs/pkg/p1/seg-1.ts', { method: 'HEAD', headers: tokens.viewer });
    assert.equal(callsFor('pkg/p1/'), 3);
    assert.deepEqual(hostCalls.at(-1), { subject: 'vic', key: 'pkg/p1/seg-1.ts', action: 'head' });
  });

  it('caches denials too (403 without a new call)', async () => {
    assert.equal((await get(memory, 'denied/a.txt', tokens.viewer)).status, 403);
    assert.equal((await get(memory, 'denied/a.txt', tokens.viewer)).status, 403);
    assert.equal(callsFor('denied/'), 1);
  });
});

describe('webhook with the cache shared through Redis', () => {
  it('one answer scoped to a package covers 30 files requested at once: one call', async () => {
    const responses = await Promise.all(Array.from({ length: 30 }, (_, i) => get(shared1, `pkg/p2/seg-${i}.ts`, tokens.viewer)));
    responses.forEach((res, i) => assert.equal(res.text(), `p2 segment ${i}`));
    assert.equal(callsFor('pkg/p2/'), 1);
  });

  it('a decision cached by one instance is used by the other', async () => {
    assert.equal((await get(shared1, 'cross/a.txt', tokens.viewer)).status, 200);
    assert.equal((await get(shared2, 'cross/a.txt', tokens.viewer)).status, 200);
    assert.equal((await get(shared2, 'pkg/p2/seg-7.ts', tokens.viewer)).status, 200);
    assert.equal(callsFor('cross/'), 1);
    assert.equal(callsFor('pkg/p2/'), 1);
    assert.equal(auditFor(shared2, 'cross/a.txt').cacheHit, true);
  });

  it('asks again once Redis has let the answer expire at its TTL', async () => {
    // Redis announces each write and expiry (keyspace notifications): the test waits for the
    // expiry of the answer it saw written, not for a guessed time.
    const client = new Redis(redis.url);
    const subscriber = client.duplicate();
    try {
      await client.config('SET', 'notify-keyspace-events', 'E$x');
      const written: string[] = [];
      const expired = new Set<string>();
      let onExpired = (): void => undefined;
      subscriber.on('message', (channel: string, key: string) => {
        if (!key.startsWith('sluice:decision:')) return;
        if (channel.endsWith(':set')) written.push(key);
        else expired.add(key);
        onExpired();
      });
      await subscriber.subscribe('__keyevent@0__:set', '__keyevent@0__:expired');
      assert.equal((await get(shared1, 'short/a.txt', tokens.viewer)).status, 200);
      assert.equal(callsFor('short/'), 1);
      while (written.length === 0) await new Promise<void>((resolve) => (onExpired = resolve));
      assert.equal(written.length, 1);
      const key = written[0] as string;
      while (!expired.has(key)) await new Promise<void>((resolve) => (onExpired = resolve));
      assert.equal((await get(shared2, 'short/a.txt', tokens.viewer)).status, 200);
      assert.equal(callsFor('short/'), 2);
      assert.equal(auditFor(shared2, 'short/a.txt').cacheHit, false);
    } finally {
      subscriber.disconnect();
      client.disconnect();
    }
  });
});

describe('webhook failures fail closed', () => {
  it('an error answer gives 503 "authorization unavailable", an audit line and a log line; nothing is cached', async () => {
    for (let i = 0; i < 2; i += 1) {
      const res = await get(shared1, 'broken/a.txt', tokens.viewer);
      assert.equal(res.status, 503);
      assert.deepEqual(res.json(), { error: 'authorization unavailable' });
    }
    assert.equal(callsFor('broken/'), 2);
    assert.deepEqual([auditFor(shared1, 'broken/a.txt').decision, auditFor(shared1, 'broken/a.txt').reason], ['error', 'authorization unavailable']);
    const warning = shared1.logs().find((l) => l.msg === 'authorization unavailable');
    assert.match(String((warning?.cause as { message?: string } | undefined)?.message), /webhook answered HTTP 500/);
  });

  it('a webhook slower than timeoutMs gives 503, not the late allow', async () => {
    const res = await get(shared1, 'slow/a.txt', tokens.viewer);
    assert.equal(res.status, 503);
    assert.deepEqual(res.json(), { error: 'authorization unavailable' });
    assert.match(
      String(
        (
          shared1
            .logs()
            .filter((l) => l.msg === 'authorization unavailable')
            .at(-1)?.cause as { message?: string }
        ).message,
      ),
      /timed out after 500 ms/,
    );
  });
});

describe('per-rule bandwidth', () => {
  it('nginx consumes X-Accel-Limit-Rate: the file arrives complete, slowed, without the header', async () => {
    const started = performance.now();
    const res = await download(shared1.port, '/files/docs/throttled/big.bin', tokens.viewer);
    const seconds = (performance.now() - started) / 1000;
    assert.equal(res.status, 200);
    assert.equal(res.bytes, THROTTLED_BYTES);
    assert.equal(res.sha256, createHash('sha256').update(Buffer.alloc(THROTTLED_BYTES, 7)).digest('hex'));
    assert.equal(res.headers['x-accel-limit-rate'], undefined);
    assert.equal(res.headers['x-accel-redirect'], undefined);
    // 256 KiB at 64 KiB/s needs about 3 s; only a loose lower bound, so load can never fail it.
    assert.ok(seconds >= 1.5, `took ${seconds.toFixed(2)} s`);
    assert.equal(auditFor(shared1, 'throttled/big.bin').limitRate, 65536);
  });
});

describe('outages', () => {
  it('with Redis down, decisions fall back to asking the webhook (logged), never to 503', async () => {
    await redis.stop();
    for (let i = 0; i < 2; i += 1) assert.equal((await get(shared1, 'fallback/a.txt', tokens.viewer)).status, 200);
    assert.equal(callsFor('fallback/'), 2);
    assert.ok(shared1.logs().some((l) => l.msg === 'decision cache unavailable (Redis): asking the authority'));
  });

  it('with the webhook down: new decisions 503, cached ones last until their TTL', async () => {
    await get(memory, 'pkg/p3/seg-0.ts', tokens.viewer);
    host.closeAllConnections();
    await new Promise((resolve) => host.close(resolve));
    assert.equal((await get(memory, 'pkg/p3/seg-1.ts', tokens.viewer)).status, 200);
    const res = await get(memory, 'late/a.txt', tokens.viewer);
    assert.equal(res.status, 503);
    assert.deepEqual(res.json(), { error: 'authorization unavailable' });
    assert.match(
      String(
        (
          memory
            .logs()
            .filter((l) => l.msg === 'authorization unavailable')
            .at(-1)?.cause as { message?: string }
        ).message,
      ),
      /ECONNREFUSED/,
    );
  });
});
