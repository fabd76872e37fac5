// Shared state on every supported Redis topology — one server, Redis Cluster (three primaries)
// and Sentinel (primary, replica, three sentinels) — with two app instances each: one-time links,
// revocations, rate-limit buckets, the decision cache and upload reservations must agree between
// instances; a Sentinel failover must not make a used one-time link usable again; and with no
// Redis reachable, everything that needs shared state fails closed.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { validateConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/observability/logger.js';
import { StateDecisionCache } from '../../src/policy/decision-cache.js';
import { startSluice, type RunningSluice } from '../../src/server.js';
import { openSharedState, type SharedState } from '../../src/state/shared-state.js';
import { createReservations } from '../../src/uploads/reservations.js';
import { request, type RawResponse } from '../helpers/http.js';
import { startRedisTopology, type RedisTopology, type RedisTopologyKind } from '../helpers/redis-topology.js';
import { bearer, testAuthConfig } from '../helpers/tokens.js';

const LINK_KEY = { kid: 'k1', secret: 'topology-link-secret-0123456789abcdef' };
const silent = createLogger('silent');

interface Minted {
  readonly id: string;
  readonly url: string;
}

async function api(
  app: RunningSluice,
  method: string,
  rawPath: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`http://${app.address}${rawPath}`, {
    method,
    headers: body === undefined ? headers : { ...headers, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text === '' ? null : (JSON.parse(text) as unknown) };
}

async function mint(app: RunningSluice, sub: string, body: Record<string, unknown>): Promise<Minted> {
  const res = await api(app, 'POST', '/files/_share', await bearer(sub), { store: 'docs', key: 'report.txt', expiresIn: 600, ...body });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  return res.json as Minted;
}

const get = (app: RunningSluice, url: string, headers: Record<string, string> = {}): Promise<RawResponse> => request(app.port, url, { headers });

/** Polls until `check` holds (a failover settles in about a second). */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

for (const kind of ['standalone', 'cluster', 'sentinel'] as const satisfies readonly RedisTopologyKind[]) {
  describe(`shared state on Redis ${kind}`, () => {
    let dir: string;
    let topology: RedisTopology;
    let a: RunningSluice;
    let b: RunningSluice;
    let direct: SharedState[] = [];

    const config = () =>
      validateConfig({
        stores: { docs: { type: 'fs', root: path.join(dir, 'store') } },
        auth: testAuthConfig,
        rules: [{ id: 'signed-in', store: 'docs', key: '*path', actions: ['read', 'head', 'share'], when: [{ authenticated: true }] }],
        sharing: { keys: [LINK_KEY], maxExpiresInSeconds: 3600, rateLimit: { requestsPerSecond: 0.001, burst: 10 } },
        redis: topology.settings,
        logLevel: 'silent',
      });

    before(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), `sluice-redis-${kind}-`));
      await mkdir(path.join(dir, 'store'));
      await writeFile(path.join(dir, 'store', 'report.txt'), 'report');
      topology = await startRedisTopology(kind, dir);
      a = await startSluice(config(), { port: 0, logger: silent });
      b = await startSluice(config(), { port: 0, logger: silent });
      direct = await Promise.all([openSharedState(config(), silent), openSharedState(config(), silent)]);
    });

    after(async () => {
      for (const state of direct) state.close();
      await a?.close();
      await b?.close();
      await topology?.stop();
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    });

    it('a one-time link works exactly once, whichever instance serves it', async () => {
      const link = await mint(a, 'alice', { maxDownloads: 1 });
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => get(i % 2 === 0 ? a : b, link.url)));
      assert.equal(results.filter((r) => r.status === 200).length, 1, results.map((r) => r.status).join());
      assert.equal(results.filter((r) => r.status === 410).length, 5);
      assert.equal((await get(a, link.url)).status, 410);
    });

    it('a link revoked on one instance is refused by the other', async () => {
      const link = await mint(a, 'bea', {});
      assert.equal((await get(b, link.url)).status, 200);
      assert.equal((await api(a, 'DELETE', `/files/_share/links/${link.id}`, await bearer('bea'))).status, 204);
      const refused = await get(b, link.url);
      assert.equal(refused.status, 410);
      assert.deepEqual(refused.json(), { error: 'share link revoked' });
    });

    it('one rate-limit bucket per subject, shared by both instances', async () => {
      const rita = await bearer('rita');
      const statuses: number[] = [];
      for (let i = 0; i < 11; i += 1) statuses.push((await get(i % 2 === 0 ? a : b, '/files/docs/report.txt', rita)).status);
      assert.deepEqual(statuses, [...Array(10).fill(200), 429]);
    });

    it('decision-cache answers stored by one instance are found by the other, all scopes of a lookup in one read', async () => {
      const [one, two] = direct.map((state) => new StateDecisionCache(state.space('sluice:decision:', { maxEntries: 10 }), silent)) as [
        StateDecisionCache,
        StateDecisionCache,
      ];
      const group = JSON.stringify(['webhook', 'docs', 'read', 'sub:carol']);
      await one.store(group, 'media/pkg', { effect: 'allow', ttlSeconds: 60 });
      // Several candidate scopes in one MGET: on a cluster they must share a slot (hash tag), or Redis refuses.
      assert.deepEqual(await two.lookup(group, ['media/pkg/a/b.ts', 'media/pkg/a', 'media/pkg', 'media']), { effect: 'allow', ttlSeconds: 60 });
      assert.equal(await two.lookup(JSON.stringify(['webhook', 'docs', 'read', 'sub:dave']), ['media/pkg']), null);
    });

    it('upload reservations are write-once across instances', async () => {
      const [one, two] = direct.map((state) => createReservations(state)) as [ReturnType<typeof createReservations>, ReturnType<typeof createReservations>];
      assert.equal(await one.reserve(`key:docs/${kind}.bin`, 'alice', 60), true);
      assert.equal(await two.reserve(`key:docs/${kind}.bin`, 'bob', 60), false);
      assert.equal(await two.get(`key:docs/${kind}.bin`), 'alice');
      await two.release(`key:docs/${kind}.bin`);
      assert.equal(await one.reserve(`key:docs/${kind}.bin`, 'carol', null), true);
    });

    if (kind === 'sentinel') {
      it('across a failover a used one-time link stays used, and a new one works exactly once', async () => {
        const used = await mint(a, 'erin', { maxDownloads: 1 });
        assert.equal((await get(b, used.url)).status, 200);
        await topology.failover();
        // Until both instances have followed the new primary an answer may be 503; never 200.
        for (const app of [a, b]) {
          await eventually(async () => {
            const res = await get(app, used.url);
            assert.notEqual(res.status, 200, 'a used one-time link was served again after the failover');
            return res.status === 410;
          }, 'used link answered 410 after the failover');
        }
        let fresh: Minted | undefined;
        await eventually(async () => {
          const res = await api(a, 'POST', '/files/_share', await bearer('erin'), { store: 'docs', key: 'report.txt', expiresIn: 600, maxDownloads: 1 });
          if (res.status === 201) fresh = res.json as Minted;
          return fresh !== undefined;
        }, 'minting after the failover');
        const url = (fresh as Minted).url;
        let served = 0;
        await eventually(async () => {
          const status = (await get(b, url)).status;
          if (status === 200) served += 1;
          return status === 200;
        }, 'a new one-time link works after the failover');
        for (const app of [a, b]) assert.equal((await get(app, url)).status, 410);
        assert.equal(served, 1);
      });
    }

    it('with no Redis reachable, links, revocations and reservations fail closed (503)', async () => {
      const counted = await mint(a, 'fay', { maxDownloads: 2 });
      const plain = await mint(a, 'fay', {});
      await topology.stop();
      for (const url of [counted.url, plain.url]) {
        const res = await get(b, url);
        assert.equal(res.status, 503, url);
        assert.deepEqual(res.json(), { error: 'sharing state unavailable' });
      }
      assert.equal((await api(a, 'DELETE', `/files/_share/links/${plain.id}`, await bearer('fay'))).status, 503);
      await assert.rejects(createReservations(direct[0] as SharedState).reserve('key:docs/down.bin', 'fay', 60), {
        status: 503,
        message: 'upload state unavailable',
      });
      // The decision cache degrades to a miss (the authority is asked), never to an answer.
      const cache = new StateDecisionCache((direct[1] as SharedState).space('sluice:decision:', { maxEntries: 10 }), silent);
      assert.equal(await cache.lookup('g', ['media/pkg']), null);
    });
  });
}
