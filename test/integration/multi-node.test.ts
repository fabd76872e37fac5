// Scale-out, proven on real processes: two nodes A and B, each its own nginx + app process +
// worker process, sharing one signature-checking S3 (Swift s3api) and one Redis deployment —
// standalone, a 3-primary Cluster, and Sentinel (with a failover mid-test). Whatever one node
// decides or counts, the other must see.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { request, type RawResponse } from '../helpers/http.js';
import { startNode, type SluiceNode } from '../helpers/multi-node.js';
import { startRedisTopology, type RedisTopology, type RedisTopologyKind } from '../helpers/redis-topology.js';
import { startSwiftS3, s3ClientFor, type S3TestServer } from '../helpers/swift.js';
import { bearer, testAuthConfig } from '../helpers/tokens.js';

const BUCKET = 'media';
const RESULTS_BUCKET = 'results';
const SHARE_KEY = { kid: 'mn-1', secret: 'multi-node-share-link-secret-0123456789' };
const WORKER_SECRET = 'multi-node-worker-secret-0123456789abcdef';
const IMGPROXY_KEY = Buffer.from('multi-node-key').toString('hex');
const IMGPROXY_SALT = Buffer.from('multi-node-salt').toString('hex');
/** Requests per subject (or link) across the whole deployment; the refill is negligible here (one per 100 s). */
const BURST = 30;
const RATE_LIMIT = { requestsPerSecond: 0.01, burst: BURST };
const ONE_TIME_REQUESTS = 20;

let s3: S3TestServer;
let client: S3Client;
let base: string;

before(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'sluice-multi-node-'));
  s3 = await startSwiftS3();
  client = s3ClientFor(s3);
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await client.send(new CreateBucketCommand({ Bucket: RESULTS_BUCKET }));
});

after(async () => {
  await s3?.stop();
  if (base !== undefined) await rm(base, { recursive: true, force: true });
});

function nodeConfig(redis: RedisTopology): Record<string, unknown> {
  const s3Store = { type: 's3', endpoint: s3.endpoint, forcePathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey };
  return {
    logLevel: 'warn',
    stores: { media: { ...s3Store, bucket: BUCKET }, results: { ...s3Store, bucket: RESULTS_BUCKET } },
    auth: testAuthConfig,
    rules: [
      {
        id: 'own-folder',
        store: 'media',
        key: 'users/:owner/*rest',
        actions: ['read', 'head', 'share', 'transform', 'write'],
        when: [{ claim: 'sub', equalsParam: 'owner' }],
      },
    ],
    sharing: { keys: [SHARE_KEY], maxExpiresInSeconds: 3600, rateLimit: RATE_LIMIT },
    uploads: { enabled: true, stores: ['media'], allowedContentTypes: ['text/plain'] },
    transform: {
      enabled: true,
      keys: [IMGPROXY_KEY],
      salts: [IMGPROXY_SALT],
      // Rendered results in S3, so any node's worker serves what another node rendered.
      resultStore: { store: 'results', prefix: 'results/' },
    },
    worker: { secret: WORKER_SECRET, concurrency: 1 },
    redis: redis.settings,
  };
}

async function put(key: string, body: string | Buffer): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
}

async function api(
  node: SluiceNode,
  method: string,
  rawPath: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> | null }> {
  const res = await fetch(`http://127.0.0.1:${node.port}${rawPath}`, {
    method,
    headers: body === undefined ? headers : { ...headers, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text === '' ? null : (JSON.parse(text) as Record<string, unknown>) };
}

/** A share link for `key`, minted through `node`. */
async function mint(node: SluiceNode, headers: Record<string, string>, body: Record<string, unknown>): Promise<{ id: string; url: string }> {
  const res = await api(node, 'POST', '/files/_share', headers, { store: 'media', expiresIn: 600, ...body });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  return res.json as { id: string; url: string };
}

function statuses(responses: readonly RawResponse[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const res of responses) counts[res.status] = (counts[res.status] ?? 0) + 1;
  return counts;
}

/** Fires `count` requests at once, alternating between the nodes. */
function burst(nodes: readonly SluiceNode[], count: number, rawPath: string, headers: Record<string, string> = {}): Promise<RawResponse[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => request((nodes[i % nodes.length] as SluiceNode).port, rawPath, { headers })));
}

/** A one-time link minted on `minter`: 20 simultaneous GETs over both nodes, exactly one 200. */
async function assertOneTimeLink(minter: SluiceNode, nodes: readonly SluiceNode[], owner: string): Promise<void> {
  const key = `users/${owner}/once.txt`;
  await put(key, `for ${owner}, once`);
  const link = await mint(minter, await bearer(owner), { key, maxDownloads: 1 });
  const results = await burst(nodes, ONE_TIME_REQUESTS, link.url);
  assert.deepEqual(statuses(results), { 200: 1, 410: ONE_TIME_REQUESTS - 1 });
  assert.equal(results.find((r) => r.status === 200)?.text(), `for ${owner}, once`);
  for (const node of nodes) assert.deepEqual((await request(node.port, link.url)).json(), { error: 'share link used up' });
}

/**
 * A token and the link minted with it, revoked through `via`: served by every node up to the
 * revocation and refused by every node from the very next request on. The bound is zero here:
 * neither the nginx decision cache (off; and never used while `sharing.rateLimit` is set) nor the
 * policy decision cache (webhook/plugin answers only) stands between a `jti` and its revocation.
 */
async function assertRevocation(via: SluiceNode, nodes: readonly SluiceNode[], holder: string, jti: string): Promise<Record<string, string>> {
  const key = `users/${holder}/notes.txt`;
  await put(key, `${holder} notes`);
  const token = await bearer(holder, { jti });
  const link = await mint(via, token, { key });
  for (const node of nodes) {
    assert.equal((await request(node.port, `/files/media/${key}`, { headers: token })).status, 200, `${node.name} before`);
    assert.equal((await request(node.port, link.url)).status, 200, `${node.name} link before`);
  }
  assert.equal((await api(via, 'DELETE', `/files/_share/tokens/${jti}`, token)).status, 204);
  for (const node of nodes) {
    const res = await request(node.port, `/files/media/${key}`, { headers: token });
    assert.equal(res.status, 401, `${node.name} after`);
    assert.deepEqual(res.json(), { error: 'invalid token' });
    const viaLink = await request(node.port, link.url);
    assert.equal(viaLink.status, 410, `${node.name} link after`);
    assert.doesNotMatch(viaLink.text(), /notes/);
  }
  return token;
}

/**
 * Waits until `node` can write shared state again (after a failover its Redis client has to find
 * the new primary): minting a link writes its record. Each try uses its own subject, so the
 * probes never run into the rate limit.
 */
async function waitUntilWritable(node: SluiceNode, kind: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    const sub = `probe-${kind}-${node.name}-${attempt}`;
    const res = await api(node, 'POST', '/files/_share', await bearer(sub), { store: 'media', key: `users/${sub}/p.txt`, expiresIn: 60 });
    if (res.status === 201) return;
    assert.ok(Date.now() < deadline, `node ${node.name} cannot write shared state after the failover: ${res.status} ${JSON.stringify(res.json)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function scenario(kind: RedisTopologyKind): void {
  let topology: RedisTopology;
  let a: SluiceNode;
  let b: SluiceNode;
  const who = (name: string): string => `${name}-${kind}`;

  before(async () => {
    const dir = path.join(base, kind);
    await mkdir(path.join(dir, 'redis'), { recursive: true });
    topology = await startRedisTopology(kind, path.join(dir, 'redis'));
    const config = nodeConfig(topology);
    // One after the other: four processes starting at once on two busy cores can outlast the start-up timeouts.
    a = await startNode('A', config, path.join(dir, 'a'));
    b = await startNode('B', config, path.join(dir, 'b'));
  });

  after(async () => {
    await a?.stop();
    await b?.stop();
    await topology?.stop();
  });

  it('an upload planned through A is readable through B; its write-once reservation holds on B', async () => {
    const owner = await bearer(who('uma'));
    const key = `users/${who('uma')}/upload.txt`;
    const content = `uploaded through A (${kind})`;
    const plan = await api(a, 'POST', '/files/_uploads', owner, { store: 'media', key, size: Buffer.byteLength(content), contentType: 'text/plain' });
    assert.equal(plan.status, 201, JSON.stringify(plan.json));
    const { method, url, headers } = plan.json as { method: string; url: string; headers: Record<string, string> };
    assert.equal((await fetch(url, { method, headers, body: content })).status, 200);
    const read = await request(b.port, `/files/media/${key}`, { headers: owner });
    assert.equal(read.status, 200);
    assert.equal(read.text(), content);
    // A key reserved on A (not yet uploaded) is refused on B: the reservation lives in Redis.
    const pending = { store: 'media', key: `users/${who('uma')}/pending.txt`, size: 4, contentType: 'text/plain' };
    assert.equal((await api(a, 'POST', '/files/_uploads', owner, pending)).status, 201);
    assert.deepEqual(await api(b, 'POST', '/files/_uploads', owner, pending), { status: 409, json: { error: 'key already written' } });
  });

  it(`a one-time link works exactly once across both nodes, also under ${ONE_TIME_REQUESTS} simultaneous requests`, async () => {
    const owner = who('olga');
    const key = `users/${owner}/single.txt`;
    await put(key, 'single use');
    const link = await mint(a, await bearer(owner), { key, maxDownloads: 1 });
    assert.equal((await request(b.port, link.url, { method: 'HEAD' })).status, 200, 'HEAD only checks');
    assert.equal((await request(b.port, link.url)).text(), 'single use');
    for (const node of [a, b]) assert.equal((await request(node.port, link.url)).status, 410, node.name);
    await assertOneTimeLink(b, [a, b], who('oscar'));
  });

  it('a token revoked through A is refused on B from the next request on, with the links minted with it', async () => {
    await assertRevocation(a, [a, b], who('tom'), `${who('tom')}-1`);
  });

  it(`rate limits are shared: ${BURST} requests per subject across A and B together`, async () => {
    const rita = await bearer(who('rita'));
    const key = `users/${who('rita')}/notes.txt`;
    await put(key, 'rita notes');
    // Two separate buckets would let 2 × BURST through.
    const results = await burst([a, b], 2 * BURST, `/files/media/${key}`, rita);
    assert.deepEqual(statuses(results), { 200: BURST, 429: BURST });
    for (const node of [a, b]) {
      const limited = await request(node.port, `/files/media/${key}`, { headers: rita });
      assert.equal(limited.status, 429, node.name);
      assert.deepEqual(limited.json(), { error: 'too many requests' });
      assert.ok(Number(limited.headers['retry-after']) >= 1);
    }
    // Another subject has its own bucket.
    assert.equal((await request(b.port, `/files/media/${key}`, { headers: await bearer(who('uma')) })).status, 403);
  });

  it('a transform rendered on A is served on B without a render (shared result store)', async () => {
    const owner = await bearer(who('pia'));
    const key = `users/${who('pia')}/photo.jpg`;
    await put(
      key,
      await sharp({ create: { width: 640, height: 480, channels: 3, background: '#3a6' } })
        .jpeg()
        .toBuffer(),
    );
    const url = `/images/media/${key}?w=160&f=png`;
    const [rendersA, rendersB] = [await a.worker.renders(), await b.worker.renders()];
    const onA = await request(a.port, url, { headers: owner });
    assert.equal(onA.status, 200, onA.text());
    assert.equal(await a.worker.renders(), rendersA + 1, 'A rendered it');
    const onB = await request(b.port, url, { headers: owner });
    assert.equal(onB.status, 200, onB.text());
    assert.equal(onA.headers['content-type'], 'image/png');
    assert.equal(onB.headers['content-type'], onA.headers['content-type']);
    assert.ok(onB.body.equals(onA.body), 'the same bytes');
    assert.equal(await b.worker.renders(), rendersB, 'B did not render');
    // One validator for one result: a client moving between nodes revalidates with 304 on each.
    assert.ok(onA.headers.etag !== undefined);
    assert.equal(onB.headers.etag, onA.headers.etag);
    for (const node of [a, b])
      assert.equal((await request(node.port, url, { headers: { ...owner, 'If-None-Match': String(onA.headers.etag) } })).status, 304, node.name);
  });

  if (kind === 'sentinel') {
    it('after the replica is promoted, one-time links and revocations still hold across both nodes', async () => {
      const revokedBefore = await assertRevocation(b, [a, b], who('vera'), `${who('vera')}-1`);
      await topology.failover();
      await waitUntilWritable(a, kind);
      await waitUntilWritable(b, kind);
      // State written before the promotion survived it...
      for (const node of [a, b])
        assert.equal((await request(node.port, `/files/media/users/${who('vera')}/notes.txt`, { headers: revokedBefore })).status, 401, node.name);
      // ...and the new primary counts and revokes for both nodes.
      await assertOneTimeLink(a, [a, b], who('otto'));
      await assertRevocation(a, [a, b], who('tess'), `${who('tess')}-1`);
    });
  }

  it("killing A's app and worker (SIGKILL) leaves B serving downloads, links and transforms", async () => {
    const owner = who('kim');
    const headers = await bearer(owner);
    const key = `users/${owner}/doc.txt`;
    await put(key, 'still here');
    const image = `users/${owner}/photo.jpg`;
    await put(
      image,
      await sharp({ create: { width: 320, height: 240, channels: 3, background: '#a36' } })
        .jpeg()
        .toBuffer(),
    );
    await Promise.all([a.app.kill(), a.worker.kill()]);
    assert.ok(!processAlive(a.app.pid) && !processAlive(a.worker.pid), "A's processes are gone");
    // A's nginx is still up but has no app behind it.
    const onA = await request(a.port, `/files/media/${key}`, { headers });
    assert.ok(onA.status >= 500, `A answers ${onA.status}`);
    assert.doesNotMatch(onA.text(), /still here/);

    const download = await request(b.port, `/files/media/${key}`, { headers });
    assert.equal(download.status, 200);
    assert.equal(download.text(), 'still here');
    const link = await mint(b, headers, { key, maxDownloads: 1 });
    assert.equal((await request(b.port, link.url)).status, 200);
    assert.equal((await request(b.port, link.url)).status, 410);
    const thumb = await request(b.port, `/images/media/${image}?w=80&f=png`, { headers });
    assert.equal(thumb.status, 200, thumb.text());
    assert.equal((await sharp(thumb.body).metadata()).width, 80);
  });
}

for (const kind of ['standalone', 'cluster', 'sentinel'] as const) {
  describe(`two nodes on shared S3 and ${kind} Redis`, () => scenario(kind));
}
