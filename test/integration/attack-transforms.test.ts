// Regression tests for the transform denial-of-service finding, through real nginx (rendered by
// Sluice), the app in-process and `sluice worker` with real sharp: a heavy blur is really
// stopped at the deadline, huge results are refused, one client flooding does not starve
// another, and fresh cache busters run out of render budget. Assertions count (worker metrics,
// statuses) or use generous CPU bounds, never tight wall-clock times.
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { request, type RawResponse } from '../helpers/http.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { bearer, testAuthConfig } from '../helpers/tokens.js';
import { signImgproxyPath } from '../helpers/worker.js';

const KEY = Buffer.from('attack-test-key').toString('hex');
const SALT = Buffer.from('attack-test-salt').toString('hex');
const REQUEST_TIMEOUT_MS = 3000;
const MAX_RESULT_PIXELS = 4_000_000;
const BUDGET_BURST = 12;

let base: string;
let stack: Stack;
const users: Record<string, Record<string, string>> = {};

const signed = (pathAfterSignature: string): string => `/img${signImgproxyPath(pathAfterSignature, KEY, SALT)}`;
const get = (url: string, headers: Record<string, string> = {}): Promise<RawResponse> => request(stack.port, url, { headers });

/** The worker's own Prometheus text. */
async function workerMetrics(): Promise<string> {
  return (await request(stack.worker?.port as number, '/metrics')).text();
}

/** Sum of a metric's samples whose labels match `labels` (a substring such as `reason="budget"`). */
function sample(metrics: string, name: string, labels = ''): number {
  let total = 0;
  for (const line of metrics.split('\n')) {
    const match = new RegExp(`^${name}(\\{[^}]*\\})? ([0-9.e+-]+)$`).exec(line);
    if (match !== null && (match[1] ?? '').includes(labels)) total += Number(match[2]);
  }
  return total;
}

/** Polls (bounded) until the worker runs nothing; returns whether it got there. */
async function workerIdle(boundMs: number): Promise<boolean> {
  const until = Date.now() + boundMs;
  while (Date.now() < until) {
    const metrics = await workerMetrics();
    if (sample(metrics, 'sluice_worker_active') === 0 && sample(metrics, 'sluice_worker_waiting') === 0) return true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}

async function put(root: string, key: string, content: Buffer): Promise<void> {
  const file = path.join(root, ...key.split('/'));
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
}

before(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'sluice-attack-transforms-'));
  await chmod(base, 0o755);
  const root = path.join(base, 'photos');
  // ~3 KB, as in the report
  await put(
    root,
    'small.jpg',
    await sharp({ create: { width: 64, height: 48, channels: 3, background: '#4a7', noise: { type: 'gaussian', mean: 128, sigma: 30 } } })
      .jpeg()
      .toBuffer(),
  );
  await put(
    root,
    'noise.png',
    await sharp({ create: { width: 1024, height: 1024, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
      .png()
      .toBuffer(),
  );
  await put(
    root,
    'photo.jpg',
    await sharp({ create: { width: 1200, height: 900, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 30 } } })
      .jpeg()
      .toBuffer(),
  );

  stack = await startStack(
    {
      stores: { photos: { type: 'fs', root } },
      auth: testAuthConfig,
      rules: [{ id: 'staff-transforms', key: '*rest', actions: ['transform'], when: [{ claim: 'groups', contains: 'staff' }] }],
      transform: { enabled: true, keys: [KEY], salts: [SALT], localStore: 'photos' },
      worker: {
        secret: 'attack-worker-secret-0123456789abcdef0123',
        concurrency: 2,
        clientConcurrency: 1,
        queueSize: 8,
        clientQueueSize: 2,
        requestTimeoutMs: REQUEST_TIMEOUT_MS,
        // The blur cap is raised so the heavy blur of the report reaches libvips and the deadline
        // is what stops it; the default (100) refuses that URL outright.
        limits: { maxResultPixels: MAX_RESULT_PIXELS, maxBlurSigma: 1000 },
        renderBudget: { rendersPerSecond: 0.05, burst: BUDGET_BURST },
        // Cheap renders in the budget test: PNG, no negotiation surprises.
        negotiate: false,
      },
    },
    { worker: true },
  );
  for (const name of ['mallory', 'carol', 'dave']) users[name] = await bearer(name, { groups: ['staff'] });
});

after(async () => {
  await stack?.stop();
  if (base !== undefined) await rm(base, { recursive: true, force: true });
});

describe('transform denial of service (security review, finding 5)', () => {
  it('stops a heavy blur at the deadline: the worker is idle again and served the next request, CPU bounded', async (t) => {
    const cpuBefore = sample(await workerMetrics(), 'process_cpu_seconds_total');
    // rs:fit:1024:1024:1 + bl:1000 on 1024² noise: ~25–50 s of CPU if libvips ran to the end.
    const heavy = await get(signed('/rs:fit:1024:1024:1/bl:1000/plain/local:///noise.png@png'));
    assert.equal(heavy.status, 503, heavy.text());
    assert.deepEqual(heavy.json(), { error: 'processing timed out' });
    assert.equal(heavy.headers['cache-control'], 'no-store');
    // Generous bound: the deadline is 3 s; the unbounded render would keep the slot ~30 s.
    assert.ok(await workerIdle(20_000), 'the worker stopped rendering');
    const cpuSpent = sample(await workerMetrics(), 'process_cpu_seconds_total') - cpuBefore;
    t.diagnostic(`heavy blur: worker CPU ${cpuSpent.toFixed(2)} s with a ${REQUEST_TIMEOUT_MS / 1000} s deadline`);
    assert.ok(cpuSpent < 10, `the heavy render cost ${cpuSpent.toFixed(1)} s of worker CPU (deadline ${REQUEST_TIMEOUT_MS / 1000} s)`);
    const cheap = await get(signed('/rs:fit:32:32/plain/local:///small.jpg@png'));
    assert.equal(cheap.status, 200, cheap.text());
  });

  it('refuses a blur above the absolute cap with 400 before anything is rendered', async () => {
    const before = await stack.worker?.renderRequests();
    const res = await get(signed('/rs:fit:1024:1024:1/bl:5000/plain/local:///noise.png@png'));
    assert.equal(res.status, 400, res.text());
    assert.deepEqual(res.json(), { error: 'blur above the limit of 1000 sigma' });
    assert.equal(await stack.worker?.renderRequests(), before, 'nothing reached the worker');
  });

  it('refuses a huge requested area (w:8192/h:8192/el:1/ex:1) with 400, and scales a derived one down to the cap', async () => {
    const before = await stack.worker?.renderRequests();
    for (const url of [signed('/w:8192/h:8192/el:1/ex:1/plain/local:///small.jpg@png'), '/images/photos/small.jpg?w=8192&h=8192&el=1&ex=1&f=png']) {
      const res = await get(url, users.dave);
      assert.equal(res.status, 400, res.text());
      assert.deepEqual(res.json(), { error: `requested result above the limit of ${MAX_RESULT_PIXELS} pixels` });
    }
    assert.equal(await stack.worker?.renderRequests(), before, 'nothing reached the worker');
    // Only the width is named: the height follows the source (8000×6000 = 48 MP) and is capped.
    const derived = await get(signed('/w:8000/el:1/plain/local:///small.jpg@jpg'));
    assert.equal(derived.status, 200, derived.text());
    const meta = await sharp(derived.body).metadata();
    const area = (meta.width ?? 0) * (meta.height ?? 0);
    assert.ok(area <= MAX_RESULT_PIXELS && area > MAX_RESULT_PIXELS * 0.9, `${meta.width}×${meta.height}`);
  });

  it('serves a second user while a first floods the worker with renders', async () => {
    const refusedBefore = sample(await workerMetrics(), 'sluice_worker_refused_total', 'reason="client_busy"');
    // Each is a distinct result (a cache miss) that would run past the deadline: without the
    // per-client limit two of them hold both slots until the second user's request times out.
    const flood = Array.from({ length: 8 }, (_, n) => get(`/images/photos/noise.png?rs=fit:1024:1024:1&bl=1000&f=png&cb=flood-${n}`, users.mallory));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const second = await get('/images/photos/photo.jpg?rs=fit:200:150&f=png&cb=second-user', users.carol);
    const flooded = await Promise.all(flood);
    assert.equal(second.status, 200, second.text());
    const statuses = flooded.map((r) => r.status);
    // mallory holds one slot and two places in the queue; the rest is refused at once
    assert.ok(statuses.filter((s) => s === 429).length >= 3, statuses.join());
    const refused = flooded.find((r) => r.status === 429) as RawResponse;
    assert.equal(refused.headers['retry-after'], '1');
    assert.deepEqual(refused.json(), { error: 'too many requests' });
    const refusedAfter = sample(await workerMetrics(), 'sluice_worker_refused_total', 'reason="client_busy"');
    assert.ok(refusedAfter - refusedBefore >= 3, `client_busy refusals: ${refusedAfter - refusedBefore}`);
    assert.ok(await workerIdle(60_000));
  });

  it('answers 429 once a client’s fresh cache busters exhausted its render budget; cache hits stay free', async () => {
    const budgetBefore = sample(await workerMetrics(), 'sluice_worker_refused_total', 'reason="budget"');
    const url = (n: number): string => `/images/photos/small.jpg?w=16&f=png&cb=${n}`;
    const statuses: number[] = [];
    let refused: RawResponse | undefined;
    for (let n = 0; n < BUDGET_BURST + 5 && refused === undefined; n++) {
      const res = await get(url(n), users.dave);
      statuses.push(res.status);
      if (res.status === 429) refused = res;
    }
    // the whole burst renders; the next fresh value (or one more, if a token refilled) is refused
    assert.deepEqual(statuses.slice(0, BUDGET_BURST), Array(BUDGET_BURST).fill(200), statuses.join());
    assert.ok(refused !== undefined, statuses.join());
    assert.ok(statuses.length <= BUDGET_BURST + 2, statuses.join());
    assert.deepEqual(refused.json(), { error: 'render budget exhausted' });
    assert.ok(Number(refused.headers['retry-after']) >= 1, String(refused.headers['retry-after']));
    assert.equal(refused.headers['cache-control'], 'no-store');
    assert.equal(sample(await workerMetrics(), 'sluice_worker_refused_total', 'reason="budget"') - budgetBefore, 1);
    // a result already rendered is served by nginx and never reaches the worker
    const rendered = await stack.worker?.renderRequests();
    const hit = await get(url(0), users.dave);
    assert.equal(hit.status, 200);
    assert.equal(await stack.worker?.renderRequests(), rendered, 'cache hits cost no budget');
    // the budget is dave's alone
    const other = await get('/images/photos/small.jpg?w=16&f=png&cb=carol-after-dave', users.carol);
    assert.equal(other.status, 200, other.text());
  });
});

describe('a result in the shared result store × a user without access', () => {
  let shared: Stack;
  let resultsRoot: string;
  const url = '/images/photos/photo.jpg?rs=fit:80:60&f=png';
  const storeHits = async (): Promise<number> =>
    sample((await request(shared.worker?.port as number, '/metrics')).text(), 'sluice_worker_result_store_total', 'outcome="hit"');

  before(async () => {
    resultsRoot = path.join(base, 'results');
    await mkdir(resultsRoot);
    shared = await startStack(
      {
        stores: { photos: { type: 'fs', root: path.join(base, 'photos') }, results: { type: 'fs', root: resultsRoot } },
        auth: testAuthConfig,
        rules: [
          { id: 'staff-transforms', store: 'photos', key: '*rest', actions: ['transform'], when: [{ claim: 'groups', contains: 'staff' }] },
          // A rule for every store: it must still not open the result store.
          { id: 'admins-everything', store: '*', key: '*rest', when: [{ claim: 'groups', contains: 'admin' }] },
        ],
        transform: { enabled: true, keys: [KEY], salts: [SALT], resultStore: { store: 'results' } },
        // For the revocation API: a revoked token must not reach a stored result either.
        sharing: { keys: [{ kid: 'k1', secret: 'attack-transforms-link-secret-0123456789' }] },
        worker: { secret: 'attack-worker-secret-0123456789abcdef0123', concurrency: 1, negotiate: false },
      },
      { worker: true },
    );
  });

  after(async () => {
    await shared?.stop();
  });

  it('still answers 403/401 for the stored result, and never reaches the worker or the store', async () => {
    const allowed = await request(shared.port, url, { headers: users.carol as Record<string, string> });
    assert.equal(allowed.status, 200, allowed.text());
    const shards = await readdir(path.join(resultsRoot, 'results'));
    assert.equal(shards.length, 1, 'the result is stored');
    const stored = await readdir(path.join(resultsRoot, 'results', shards[0] as string));
    const requests = await shared.worker?.renderRequests();
    const hits = await storeHits();

    const outsider = await bearer('eve');
    const denied = await request(shared.port, url, { headers: outsider });
    assert.equal(denied.status, 403);
    assert.ok(!denied.body.includes(allowed.body.subarray(0, 64)), 'no image bytes');
    assert.equal((await request(shared.port, url)).status, 401);
    // The same pixels under another download name are another nginx entry but the same stored
    // result: only an allowed request gets to it.
    assert.equal((await request(shared.port, `${url}&fn=other`, { headers: outsider })).status, 403);
    // The store's internal locations are not reachable from outside, nor through the download route.
    const internal = await request(shared.port, `/_sluice/img-result-fs/${shards[0]}/${stored[0]}`);
    assert.equal(internal.status, 404);
    assert.equal((await request(shared.port, `/files/results/results/${shards[0]}/${stored[0]}`, { headers: outsider })).status, 404);
    // Not even a rule for every store reaches it: the app serves no route for the result store.
    const admin = await bearer('root', { groups: ['admin'] });
    const storedPath = `/files/results/results/${shards[0]}/${stored[0]}`;
    for (const method of ['GET', 'HEAD']) {
      const res = await request(shared.port, storedPath, { method, headers: admin });
      assert.equal(res.status, 404, `${method} ${res.text()}`);
      assert.ok(!res.body.includes(allowed.body.subarray(0, 64)), 'no image bytes');
    }
    assert.equal(await shared.worker?.renderRequests(), requests, 'the worker was never asked');
    assert.equal(await storeHits(), hits);

    // An allowed request for another name is a store hit, not a render.
    const again = await request(shared.port, `${url}&fn=other`, { headers: users.carol as Record<string, string> });
    assert.equal(again.status, 200, again.text());
    assert.ok(again.body.equals(allowed.body));
    assert.equal(await storeHits(), hits + 1);

    // A staff token revoked after the result was stored: refused at once, the store is not reached.
    const revoked = await bearer('mallory', { groups: ['staff'], jti: 'mallory-stored-1' });
    assert.equal((await request(shared.port, `${url}&fn=mallory`, { headers: revoked })).status, 200);
    const hitsBefore = await storeHits();
    assert.equal((await request(shared.port, '/files/_share/tokens/mallory-stored-1', { method: 'DELETE', headers: revoked })).status, 204);
    const refused = await request(shared.port, `${url}&fn=mallory-again`, { headers: revoked });
    assert.equal(refused.status, 401, refused.text());
    assert.ok(!refused.body.includes(allowed.body.subarray(0, 64)), 'no image bytes');
    assert.equal(await storeHits(), hitsBefore, 'the store was not reached');
  });
});
