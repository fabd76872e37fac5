// The shared result store (transform.resultStore) end to end: two "nodes" (each its own nginx,
// app and worker process, each its own proxy_cache) on one real Swift s3api, real sharp; and an
// fs result store. A render is counted by the worker's own render histogram.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, utimes } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { validateConfig } from '../../src/config/load.js';
import { resultsCommand } from '../../src/cli/results-command.js';
import { request, type RawResponse } from '../helpers/http.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { startSwiftS3, s3ClientFor, type S3TestServer } from '../helpers/swift.js';
import { bearer, testAuthConfig } from '../helpers/tokens.js';
import { signImgproxyPath } from '../helpers/worker.js';

const KEY = Buffer.from('result-store-key').toString('hex');
const SALT = Buffer.from('result-store-salt').toString('hex');
const WORKER_SECRET = 'result-store-worker-secret-0123456789abcdef';
const MEDIA = 'media';
const RESULTS = 'results';

let base: string;
let s3: S3TestServer;
let client: S3Client;
let a: Stack;
let b: Stack;
let otherQuality: Stack;
let fsNode: Stack;
let fsRoot: string;
let staff: Record<string, string>;
let reader: Record<string, string>;

const signed = (pathAfterSignature: string): string => `/img${signImgproxyPath(pathAfterSignature, KEY, SALT)}`;
const get = (node: Stack, url: string, headers: Record<string, string> = {}): Promise<RawResponse> => request(node.port, url, { headers });

async function metric(node: Stack, name: string, labels = ''): Promise<number> {
  const text = (await request(node.worker?.port as number, '/metrics')).text();
  const match = new RegExp(`^${name}${labels.replace(/[{}]/g, '\\$&')} (\\d+)$`, 'm').exec(text);
  return match === null ? 0 : Number(match[1]);
}
const renders = (node: Stack): Promise<number> => node.worker?.renders() as Promise<number>;
const storeHits = (node: Stack): Promise<number> => metric(node, 'sluice_worker_result_store_total', '{outcome="hit"}');

async function storedResults(): Promise<string[]> {
  const page = await client.send(new ListObjectsV2Command({ Bucket: RESULTS, Prefix: 'results/' }));
  return (page.Contents ?? []).map((o) => o.Key as string).sort();
}

async function photo(colour: string): Promise<Buffer> {
  return sharp({ create: { width: 800, height: 600, channels: 3, background: colour } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

function nodeConfig(
  extra: { worker?: Record<string, unknown>; transform?: Record<string, unknown>; stores?: Record<string, unknown> } = {},
): Record<string, unknown> {
  const s3Store = { type: 's3', endpoint: s3.endpoint, forcePathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey };
  return {
    logLevel: 'warn',
    stores: { media: { ...s3Store, bucket: MEDIA }, results: { ...s3Store, bucket: RESULTS }, ...extra.stores },
    auth: testAuthConfig,
    rules: [{ id: 'staff-transforms', key: 'photos/*rest', actions: ['transform'], when: [{ claim: 'groups', contains: 'staff' }] }],
    transform: { enabled: true, keys: [KEY], salts: [SALT], resultStore: { store: 'results', prefix: 'results/' }, ...extra.transform },
    worker: { secret: WORKER_SECRET, concurrency: 2, ...extra.worker },
  };
}

before(async () => {
  const swift = startSwiftS3();
  base = await mkdtemp(path.join(os.tmpdir(), 'sluice-results-'));
  await chmod(base, 0o755);
  s3 = await swift;
  client = s3ClientFor(s3);
  await client.send(new CreateBucketCommand({ Bucket: MEDIA }));
  await client.send(new CreateBucketCommand({ Bucket: RESULTS }));
  for (const [key, colour] of [
    ['photos/a.jpg', '#2a6'],
    ['photos/b.jpg', '#a26'],
    ['photos/c.jpg', '#62a'],
    ['photos/d.jpg', '#66a'],
  ] as const) {
    await client.send(new PutObjectCommand({ Bucket: MEDIA, Key: key, Body: await photo(colour) }));
  }
  fsRoot = path.join(base, 'fs-results');
  await mkdir(fsRoot);
  await chmod(fsRoot, 0o755);
  // One after another: four worker processes starting at once is a lot for a small test box.
  a = await startStack(nodeConfig(), { worker: true });
  b = await startStack(nodeConfig(), { worker: true });
  otherQuality = await startStack(nodeConfig({ worker: { defaultQuality: { jpeg: 40 } } }), { worker: true });
  fsNode = await startStack(
    nodeConfig({ stores: { shared: { type: 'fs', root: fsRoot } }, transform: { resultStore: { store: 'shared', prefix: 'derived/' } } }),
    { worker: true },
  );
  staff = await bearer('alice', { groups: ['staff'] });
  reader = await bearer('bob');
});

after(async () => {
  await Promise.all([a?.stop(), b?.stop(), otherQuality?.stop(), fsNode?.stop()]);
  await s3?.stop();
  if (base !== undefined) await rm(base, { recursive: true, force: true });
});

describe('shared S3 result store', () => {
  it('a result rendered on one node is served on another, with an empty proxy_cache, without a render', async () => {
    const url = signed('/rs:fit:200:150/fn:holiday/plain/s3://media/photos/a.jpg@png');
    const [rendersA, rendersB] = [await renders(a), await renders(b)];
    const onA = await get(a, url);
    assert.equal(onA.status, 200, onA.text());
    assert.equal(await renders(a), rendersA + 1, 'A rendered it');
    assert.equal((await storedResults()).length, 1, 'and kept it once');

    const hitsB = await storeHits(b);
    const onB = await get(b, url);
    assert.equal(onB.status, 200, onB.text());
    assert.ok(onB.body.equals(onA.body), 'the same bytes');
    assert.equal(onB.headers['content-type'], 'image/png');
    assert.equal(onB.headers['content-disposition'], 'inline; filename="holiday.png"');
    assert.equal(onB.headers['x-content-type-options'], 'nosniff');
    assert.match(String(onB.headers['content-security-policy']), /sandbox/);
    assert.equal(await renders(b), rendersB, 'B did not render');
    assert.equal(await storeHits(b), hitsB + 1, "B's worker found it in the store");
    // Nothing of S3 or of the internal redirect reaches the client.
    assert.deepEqual(
      Object.keys(onB.headers).filter((h) => /^x-(amz|sluice|accel|trans|openstack)/.test(h)),
      [],
    );

    // B cached what it fetched: the next request is an nginx cache hit, not even a worker request.
    const requestsB = await b.worker?.renderRequests();
    const again = await get(b, url);
    assert.equal(again.status, 200);
    assert.ok(again.body.equals(onA.body));
    assert.equal(again.headers['content-disposition'], 'inline; filename="holiday.png"');
    assert.deepEqual(
      Object.keys(again.headers).filter((h) => /^x-(amz|trans|openstack)/.test(h)),
      [],
    );
    assert.equal(await b.worker?.renderRequests(), requestsB);
  });

  it("the rendering node's ETag is the one S3 gives the stored result on every other node; If-None-Match with it is 304 on both", async () => {
    const url = signed('/rs:fit:180:120/plain/s3://media/photos/a.jpg@webp');
    const [rendersA, rendersB] = [await renders(a), await renders(b)];
    const onA = await get(a, url);
    assert.equal(onA.status, 200, onA.text());
    assert.equal(await renders(a), rendersA + 1, 'A rendered it');
    // One PutObject: S3's ETag is the MD5 of the bytes, and A already answers with it.
    const etag = `"${createHash('md5').update(onA.body).digest('hex')}"`;
    assert.equal(onA.headers.etag, etag);
    const onB = await get(b, url);
    assert.equal(onB.status, 200, onB.text());
    assert.equal(await renders(b), rendersB, 'B fetched the stored result');
    assert.ok(onB.body.equals(onA.body));
    assert.equal(onB.headers.etag, etag, "B (serving S3's copy) answers with the same validator");
    for (const node of [a, b, a, b]) {
      const revalidated = await get(node, url, { 'If-None-Match': etag });
      assert.equal(revalidated.status, 304, `${node === a ? 'A' : 'B'}: ${revalidated.text()}`);
      assert.equal(revalidated.body.length, 0);
      assert.equal(revalidated.headers.etag, etag);
    }
    // A validator of other bytes is not current anywhere.
    for (const node of [a, b]) assert.equal((await get(node, url, { 'If-None-Match': '"0123456789abcdef0123456789abcdef"' })).status, 200);
    assert.equal(await renders(a), rendersA + 1, 'no render for the revalidations');
    assert.equal(await renders(b), rendersB);
  });

  it('a different quality setting is a different key: a new render, not the stored result', async () => {
    const url = signed('/rs:fit:300:200/plain/s3://media/photos/b.jpg@jpg');
    const onA = await get(a, url);
    assert.equal(onA.status, 200, onA.text());
    const before = await renders(otherQuality);
    const onC = await get(otherQuality, url);
    assert.equal(onC.status, 200, onC.text());
    assert.equal(await renders(otherQuality), before + 1, 'rendered with its own quality');
    assert.ok(onC.body.length < onA.body.length, `quality 40 (${onC.body.length} bytes) is smaller than 80 (${onA.body.length})`);
    assert.notEqual(onC.headers.etag, onA.headers.etag, "nginx's key follows the settings too");
  });

  it('an overwritten source gives a new result', async () => {
    const url = signed('/rs:fit:100:100/plain/s3://media/photos/c.jpg@png');
    const first = await get(a, url);
    assert.equal(first.status, 200);
    await client.send(new PutObjectCommand({ Bucket: MEDIA, Key: 'photos/c.jpg', Body: await photo('#fff') }));
    const before = await renders(b);
    const second = await get(b, url);
    assert.equal(second.status, 200);
    assert.equal(await renders(b), before + 1, 'the new version was rendered');
    assert.ok(!second.body.equals(first.body));
    const { data } = await sharp(second.body).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([...data.subarray(0, 3)], [255, 255, 255]);
  });

  it('concurrent misses on two nodes render at most once per node and leave one intact object', async () => {
    const url = signed('/rs:fit:240:180/plain/s3://media/photos/d.jpg@webp');
    const storedBefore = new Set(await storedResults());
    const [rendersA, rendersB] = [await renders(a), await renders(b)];
    const answers = await Promise.all([...Array.from({ length: 4 }, () => get(a, url)), ...Array.from({ length: 4 }, () => get(b, url))]);
    for (const answer of answers) assert.equal(answer.status, 200, answer.text());
    for (const answer of answers) assert.ok(answer.body.equals(answers[0]?.body as Buffer), 'every answer has the same bytes');
    const rendered = (await renders(a)) - rendersA + ((await renders(b)) - rendersB);
    assert.ok(rendered >= 1 && rendered <= 2, `${rendered} renders`);
    const added = (await storedResults()).filter((k) => !storedBefore.has(k));
    assert.equal(added.length, 1);
    const object = await client.send(new GetObjectCommand({ Bucket: RESULTS, Key: added[0] }));
    const bytes = Buffer.from(await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
    assert.ok(bytes.equals(answers[0]?.body as Buffer), 'the stored object is the served result');
    assert.equal((await sharp(bytes).metadata()).width, 240);
  });

  it('a stored result is still only served after the app allowed the URL', async () => {
    const url = '/images/media/photos/a.jpg?rs=fit:64:64&f=png';
    const allowed = await get(a, url, staff);
    assert.equal(allowed.status, 200, allowed.text());
    const denied = await get(b, url, reader);
    assert.equal(denied.status, 403);
    assert.ok(!denied.body.equals(allowed.body));
    assert.equal((await get(b, url)).status, 401);
  });

  it('prune deletes results older than the cutoff only (and --dry-run deletes nothing)', async () => {
    const config = validateConfig({ ...nodeConfig(), port: 8080 });
    const stored = await storedResults();
    assert.ok(stored.length >= 4);
    const run = async (args: string[], now: Date): Promise<string> => {
      let out = '';
      await resultsCommand(
        () => config,
        (t) => (out += t),
        () => now,
      ).parseAsync(['prune', ...args], { from: 'user' });
      return out;
    };
    const inTwoDays = new Date(Date.now() + 2 * 86_400_000);
    // Everything is younger than three days at that time: nothing goes.
    assert.match(await run(['--older-than', '3d'], inTwoDays), /^0 results deleted$/m);
    const dry = await run(['--older-than', '1d', '--dry-run'], inTwoDays);
    assert.match(dry, new RegExp(`^${stored.length} results would delete$`, 'm'));
    assert.deepEqual(await storedResults(), stored);
    await run(['--older-than', '1d'], inTwoDays);
    assert.deepEqual(await storedResults(), []);
    // A pruned result is simply rendered (and kept) again.
    const url = signed('/rs:fit:200:150/fn:holiday/plain/s3://media/photos/a.jpg@png');
    const before = await renders(otherQuality);
    assert.equal((await get(otherQuality, url)).status, 200);
    assert.equal(await renders(otherQuality), before + 1);
    assert.equal((await storedResults()).length, 1);
  });
});

describe('shared fs result store', () => {
  const files = async (): Promise<string[]> => {
    const dir = path.join(fsRoot, 'derived');
    const out: string[] = [];
    for (const shard of await readdir(dir).catch(() => [])) for (const name of await readdir(path.join(dir, shard))) out.push(path.join(dir, shard, name));
    return out.sort();
  };

  it('keeps a rendered result as a file and serves it from there for another download name', async () => {
    const url = (name: string): string => signed(`/rs:fit:120:90/fn:${name}/plain/s3://media/photos/b.jpg@png`);
    const before = await renders(fsNode);
    const first = await get(fsNode, url('one'));
    assert.equal(first.status, 200, first.text());
    assert.equal(await renders(fsNode), before + 1);
    const kept = await files();
    assert.equal(kept.length, 1);
    assert.match(path.basename(kept[0] as string), /^[0-9a-f]{64}$/, 'no temporary file is left');
    assert.ok((await readFile(kept[0] as string)).equals(first.body));
    // Another name is another nginx cache entry but the same pixels: the stored file, no render.
    const hits = await storeHits(fsNode);
    const second = await get(fsNode, url('two'));
    assert.equal(second.status, 200, second.text());
    assert.ok(second.body.equals(first.body));
    assert.equal(second.headers['content-type'], 'image/png');
    assert.equal(second.headers['content-disposition'], 'inline; filename="two.png"');
    assert.equal(second.headers['x-content-type-options'], 'nosniff');
    assert.equal(await renders(fsNode), before + 1, 'no second render');
    assert.equal(await storeHits(fsNode), hits + 1);
    // nginx sends the file with its own ETag (mtime-size): the render already answered with it.
    assert.ok(first.headers.etag !== undefined);
    assert.equal(second.headers.etag, first.headers.etag);
    assert.equal((await get(fsNode, url('two'), { 'If-None-Match': String(first.headers.etag) })).status, 304);
    assert.equal((await get(fsNode, url('three'), { 'If-None-Match': String(first.headers.etag) })).status, 304, 'also from the file itself');
  });

  it('prune removes old files only', async () => {
    const url = signed('/rs:fit:60:60/plain/s3://media/photos/a.jpg@png');
    assert.equal((await get(fsNode, url)).status, 200);
    const kept = await files();
    assert.equal(kept.length, 2);
    const old = kept[0] as string;
    const longAgo = new Date(Date.now() - 40 * 86_400_000);
    await utimes(old, longAgo, longAgo);
    const config = validateConfig({
      ...nodeConfig({ stores: { shared: { type: 'fs', root: fsRoot } }, transform: { resultStore: { store: 'shared', prefix: 'derived/' } } }),
      port: 8080,
    });
    let out = '';
    await resultsCommand(
      () => config,
      (t) => (out += t),
    ).parseAsync(['prune', '--older-than', '30d'], { from: 'user' });
    assert.match(out, /^1 result deleted$/m);
    assert.deepEqual(await files(), kept.slice(1));
    await assert.rejects(stat(old));
  });
});
