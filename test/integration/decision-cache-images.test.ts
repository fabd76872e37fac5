// The decision cache for image URLs (transform.decisionCache, docs/nginx.md "Decision cache"), through
// real nginx, the app and `sluice worker` with real sharp: a repeated, already allowed request for
// the same variant is answered by nginx without the app, hits and misses answer byte for byte
// alike, two callers or two Accept classes never share an entry, revocations and expiries take
// effect within the bound, every hit leaves an nginx audit line, and the worker's limits and
// per-client budget still apply to every render.
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { mintToken } from '../../src/auth/mint.js';
import { assertExpiryBound, assertRevocationBound, firstRefusal } from '../helpers/decision-bounds.js';
import { request, type RawResponse } from '../helpers/http.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { TEST_SECRET, testAuthConfig } from '../helpers/tokens.js';
import { signImgproxyPath } from '../helpers/worker.js';

const TTL = 2;
const KEY = Buffer.from('sluice-dc-img-key').toString('hex');
const SALT = Buffer.from('sluice-dc-img-salt').toString('hex');
const LINK_SECRET = 'decision-cache-images-link-secret-0123456789';
/** Renders one client may start at once; no client of these tests but dave needs as many. */
const BUDGET_BURST = 12;

let base: string;
let stack: Stack;

async function token(sub: string, claims: Record<string, unknown> = {}, ttlSeconds = 300): Promise<string> {
  return mintToken({ secret: TEST_SECRET, sub, ttlSeconds, claims: { groups: ['staff'], ...claims } });
}

const auth = (jwt: string): Record<string, string> => ({ Authorization: `Bearer ${jwt}` });
const get = (url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawResponse> => request(stack.port, url, { method, headers });
const signed = (pathAfterSignature: string): string => `/img${signImgproxyPath(pathAfterSignature, KEY, SALT)}`;

function magic(body: Buffer): string {
  if (body.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff]))) return 'jpeg';
  if (body.subarray(0, 8).equals(Buffer.from('89504e470d0a1a0a', 'hex'))) return 'png';
  if (body.toString('latin1', 0, 4) === 'RIFF' && body.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  if (body.toString('latin1', 4, 12) === 'ftypavif') return 'avif';
  return 'unknown';
}

/** nginx's audit lines (the runtime directory of the rendered full config). */
async function auditLines(): Promise<Record<string, string>[]> {
  const text = await readFile(path.join(stack.dir, 'nginx', 'run', 'sluice-audit.log'), 'latin1').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(Buffer.from(line, 'latin1').toString('utf8')) as Record<string, string>);
}

/**
 * nginx buffers its audit lines (nginx.decisionCache.auditLogBuffer) and writes them within the
 * flush interval (1 s by default): poll for them until that has passed with room to spare.
 */
async function auditFor(match: (line: Record<string, string>) => boolean, count: number): Promise<Record<string, string>[]> {
  const deadline = Date.now() + 4000;
  for (;;) {
    const lines = (await auditLines()).filter(match);
    if (lines.length >= count || Date.now() > deadline) return lines;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The app's own audit lines (access decision) for one source key. */
function appAudits(key: string): Record<string, unknown>[] {
  return stack
    .logs()
    .map((l) => l.audit as Record<string, unknown> | undefined)
    .filter((a): a is Record<string, unknown> => a !== undefined && a.key === key && a.action === 'transform');
}

/** Status, headers (without Date) and body: what must not differ between a hit and a miss. */
function comparable(res: RawResponse): { status: number; headers: string[]; body: string } {
  const raw = res.rawHeaders ?? [];
  const headers: string[] = [];
  for (let i = 0; i < raw.length; i += 2)
    if ((raw[i] as string).toLowerCase() !== 'date') headers.push(`${(raw[i] as string).toLowerCase()}: ${raw[i + 1] as string}`);
  return { status: res.status, headers, body: res.body.toString('base64') };
}

async function filesUnder(dir: string): Promise<Buffer[]> {
  const result: Buffer[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) result.push(await readFile(path.join(entry.parentPath, entry.name)));
  }
  return result;
}

before(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'sluice-dc-img-'));
  await chmod(base, 0o755);
  const root = path.join(base, 'photos');
  await mkdir(root, { recursive: true });
  const photo = await sharp({ create: { width: 320, height: 240, channels: 3, background: '#36a' } })
    .jpeg()
    .toBuffer();
  for (const name of ['photo.jpg', 'pair.jpg', 'accept.jpg', 'revoke.jpg', 'expire.jpg', 'signed.jpg', 'budget.jpg', 'disk.jpg'])
    await writeFile(path.join(root, name), photo);
  stack = await startStack(
    {
      stores: { photos: { type: 'fs', root, cacheControl: 'private, max-age=600' } },
      auth: { ...testAuthConfig, clockToleranceSeconds: 0 },
      rules: [
        { id: 'staff-transforms', key: '*rest', actions: ['transform'], when: [{ claim: 'groups', contains: 'staff' }] },
        { id: 'share-disk', key: 'disk.jpg', actions: ['read', 'head', 'share'], when: [{ authenticated: true }] },
      ],
      sharing: { keys: [{ kid: 'k1', secret: LINK_SECRET }] },
      transform: { enabled: true, keys: [KEY], salts: [SALT], localStore: 'photos', decisionCache: { ttlSeconds: TTL } },
      worker: {
        secret: 'decision-cache-images-worker-secret-0123456789',
        renderBudget: { rendersPerSecond: 0.05, burst: BUDGET_BURST },
        limits: { maxResultDimension: 2000 },
      },
    },
    { worker: true },
  );
});

after(async () => {
  await stack?.stop();
  if (base !== undefined) await rm(base, { recursive: true, force: true });
});

describe('decision cache, native image URLs', () => {
  it('answers repeated requests from nginx: one app decision, an nginx audit line per request, hit = miss', async () => {
    const alice = auth(await token('alice'));
    const url = '/images/photos/photo.jpg?w=120&f=png';
    const before = appAudits('photo.jpg').length;
    const miss = await get(url, alice);
    assert.equal(miss.status, 200, miss.text());
    assert.equal(magic(miss.body), 'png');
    for (let i = 0; i < 4; i += 1) {
      const res = await get(url, alice);
      assert.deepEqual(comparable(res), comparable(miss), 'hit = miss: status, headers, bytes');
    }
    assert.equal(miss.headers['cache-control'], 'private, max-age=600');
    assert.equal(miss.headers['x-content-type-options'], 'nosniff');
    assert.deepEqual(
      Object.keys(miss.headers).filter((h) => h.startsWith('x-sluice') || h.startsWith('x-accel')),
      [],
    );
    const app = appAudits('photo.jpg').length - before;
    const lines = (await auditFor((l) => l.key === 'photo.jpg' && l.subject === 'alice', 5)).filter((l) => l.subject === 'alice');
    assert.equal(lines.length, 5, 'one nginx audit line per request');
    const hits = lines.filter((l) => l.cache === 'HIT');
    assert.ok(hits.length >= 1, JSON.stringify(lines));
    // Every request the app did not see is an nginx hit, and each hit has its line.
    assert.equal(app + hits.length, 5);
    for (const hit of hits) {
      assert.equal(hit.source, 'nginx-cache');
      assert.equal(hit.action, 'transform');
      assert.equal(hit.store, 'photos');
      assert.equal(hit.decision, 'allow');
      assert.equal(hit.rule, 'staff-transforms');
      assert.equal(hit.status, '200');
    }
  });

  it('answers HEAD, If-None-Match and Range the same on a hit as on a miss', async () => {
    const alice = auth(await token('alice'));
    const url = '/images/photos/photo.jpg?w=90&f=webp';
    const first = await get(url, alice);
    assert.equal(first.status, 200, first.text());
    const etag = String(first.headers.etag);
    for (const [name, headers, method] of [
      ['HEAD', {}, 'HEAD'],
      ['If-None-Match', { 'If-None-Match': etag }, 'GET'],
      ['Range', { Range: 'bytes=0-9' }, 'GET'],
    ] as const) {
      const miss = await get(url, { ...alice, ...headers }, method);
      const hit = await get(url, { ...alice, ...headers }, method);
      assert.deepEqual(comparable(hit), comparable(miss), name);
      // (Range: whatever the image location answers, the same on both; today the whole result.)
      if (name !== 'Range') assert.equal(miss.status, name === 'If-None-Match' ? 304 : 200, name);
    }
  });

  it('never lets two tokens, or a token and a forged one, share an entry', async () => {
    const alice = await token('alice');
    const reader = await token('bob', { groups: [] });
    const url = '/images/photos/pair.jpg?w=64&f=png';
    assert.equal((await get(url, auth(alice))).status, 200);
    assert.equal((await get(url, auth(alice))).status, 200);
    // Another token right after (alice's entry is fresh): decided by the app, refused.
    const before = appAudits('pair.jpg').length;
    const other = await get(url, auth(reader));
    assert.equal(other.status, 403);
    assert.deepEqual(other.json(), { error: 'forbidden' });
    assert.equal(appAudits('pair.jpg').length, before + 1, 'the other token reached the app');
    // No token at all: the app's 401, with its challenge.
    const anonymous = await get(url);
    assert.equal(anonymous.status, 401);
    assert.match(String(anonymous.headers['www-authenticate']), /^Bearer/);
    // A forged token carrying alice's signature finds alice's entry but fails the binding.
    const [, , aliceSig] = alice.split('.');
    const [rh, rp] = reader.split('.');
    const forged = await get(url, auth(`${rh}.${rp}.${aliceSig}`));
    assert.equal(forged.status, 401);
    assert.equal(magic(forged.body), 'unknown');
    // The same token as a cookie is its own entry: a miss first.
    const cookieBefore = appAudits('pair.jpg').length;
    assert.equal((await get(url, { Cookie: `sluice_session=${alice}` })).status, 200);
    assert.equal(appAudits('pair.jpg').length, cookieBefore + 1, 'the cookie request reached the app');
    const lines = await auditFor((l) => l.key === 'pair.jpg', 6);
    assert.ok(!lines.some((l) => l.subject === 'bob' && l.cache === 'HIT'), JSON.stringify(lines));
  });

  it('keeps one entry per Accept class: a negotiated format never reaches a client of another class', async () => {
    const alice = auth(await token('alice'));
    const url = '/images/photos/accept.jpg?w=100';
    const classes: [string, string][] = [
      ['image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8', 'avif'],
      ['image/webp,*/*', 'webp'],
      ['*/*', 'jpeg'],
      ['image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5', 'avif'],
      ['IMAGE/WEBP', 'webp'],
    ];
    for (let round = 0; round < 2; round += 1) {
      for (const [accept, format] of classes) {
        const res = await get(url, { ...alice, Accept: accept });
        assert.equal(res.status, 200, res.text());
        assert.equal(magic(res.body), format, `round ${round}: ${accept}`);
        assert.equal(res.headers['content-type'], `image/${format}`);
        assert.equal(res.headers.vary, 'Accept');
      }
    }
    // A q-value on a negotiable type: the maps cannot classify it, the app decides every time.
    const before = appAudits('accept.jpg').length;
    for (let i = 0; i < 2; i += 1) {
      const res = await get(url, { ...alice, Accept: 'image/avif;q=0,image/webp' });
      assert.equal(magic(res.body), 'webp');
    }
    assert.equal(appAudits('accept.jpg').length, before + 2);
    assert.ok((await auditFor((l) => l.key === 'accept.jpg' && l.cache === 'HIT', 1)).length >= 1);
  });

  it('stops serving a revoked jti within the TTL, and not later', async () => {
    const jwt = await token('erin', { jti: 'erin-img-1' });
    const send = (): Promise<RawResponse> => get('/images/photos/revoke.jpg?w=50&f=png', auth(jwt));
    await assertRevocationBound(send, () => request(stack.port, '/files/_share/tokens/erin-img-1', { method: 'DELETE', headers: auth(jwt) }), TTL);
  });

  it('never serves an expired token from the cache', async () => {
    const jwt = await token('frank', {}, 3);
    const send = (): Promise<RawResponse> => get('/images/photos/expire.jpg?w=50&f=png', auth(jwt));
    await assertExpiryBound(send, jwt, TTL);
  });

  it('keeps the transform limits and the per-client render budget on every render', async () => {
    const carol = auth(await token('carol'));
    // Beyond the worker's limits: the app refuses (400) every time, never from the cache.
    const before = appAudits('budget.jpg').length;
    for (let i = 0; i < 2; i += 1) {
      const res = await get('/images/photos/budget.jpg?w=3000&f=png', carol);
      assert.equal(res.status, 400);
      assert.match(String((res.json() as { error: string }).error), /limit/);
    }
    assert.equal(appAudits('budget.jpg').length, before + 2);
    // A client with a small budget: fresh variants until the worker refuses one.
    const dave = auth(await token('dave'));
    let refused: string | undefined;
    for (let n = 0; n < BUDGET_BURST + 5 && refused === undefined; n += 1) {
      const url = `/images/photos/budget.jpg?w=16&f=png&cb=dave-${n}`;
      const res = await get(url, dave);
      if (res.status === 429) refused = url;
      else assert.equal(res.status, 200, res.text());
    }
    assert.ok(refused !== undefined, 'the budget ran out');
    // The app allowed it (a cached decision); the render is still the worker's to refuse: dave's
    // budget, named in the cached ticket.
    const again = await get(refused, dave);
    assert.equal(again.status, 429);
    assert.deepEqual(again.json(), { error: 'render budget exhausted' });
    // Another client's request for the same variant is its own entry and its own budget.
    const other = await get(refused, carol);
    assert.equal(other.status, 200, other.text());
  });
});

describe('decision cache, imgproxy URLs', () => {
  it('answers a repeated signed URL from nginx, hit = miss, one nginx audit line per request', async () => {
    const url = signed('/rs:fit:80:60/plain/local:///signed.jpg@png');
    const before = appAudits('signed.jpg').length;
    const miss = await get(url);
    assert.equal(miss.status, 200, miss.text());
    assert.equal(magic(miss.body), 'png');
    for (let i = 0; i < 3; i += 1) assert.deepEqual(comparable(await get(url)), comparable(miss));
    const app = appAudits('signed.jpg').length - before;
    const lines = await auditFor((l) => l.key === 'signed.jpg', 4);
    assert.equal(lines.length, 4);
    const hits = lines.filter((l) => l.cache === 'HIT');
    assert.ok(hits.length >= 1, JSON.stringify(lines));
    assert.equal(app + hits.length, 4);
    for (const hit of hits) assert.deepEqual([hit.source, hit.rule, hit.subject, hit.action], ['nginx-cache', 'imgproxy-signature', '-', 'transform']);
    // A tampered URL is refused every time.
    for (let i = 0; i < 2; i += 1) assert.equal((await get(url.replace('80:60', '81:60'))).status, 403);
  });

  it('keeps one entry per Accept class', async () => {
    const url = signed('/rs:fit:60:45/plain/local:///signed.jpg');
    for (let round = 0; round < 2; round += 1) {
      assert.equal(magic((await get(url, { Accept: 'image/avif,image/webp' })).body), 'avif');
      assert.equal(magic((await get(url, { Accept: 'image/webp' })).body), 'webp');
      assert.equal(magic((await get(url, { Accept: '*/*' })).body), 'jpeg');
    }
  });

  it('stops serving a URL at its expires:, not later', async () => {
    const expires = Math.floor(Date.now() / 1000) + 3;
    const url = signed(`/rs:fit:40:30/exp:${expires}/plain/local:///signed.jpg@png`);
    assert.equal((await get(url)).status, 200);
    const refusedAt = await firstRefusal(
      () => get(url),
      (res) => res.status === 404,
      (expires + TTL + 5) * 1000,
    );
    assert.ok(
      refusedAt !== null && refusedAt <= (expires + 1) * 1000 + 200,
      `refused ${refusedAt === null ? 'never' : refusedAt - expires * 1000} ms after expires`,
    );
    assert.deepEqual((await get(url)).json(), { error: 'Expired URL' });
  });
});

describe('decision cache files, images', () => {
  it('hold no token and no share link', async () => {
    const grace = await token('grace');
    const minted = await fetch(`http://127.0.0.1:${stack.port}/files/_share`, {
      method: 'POST',
      headers: { ...auth(grace), 'Content-Type': 'application/json' },
      body: JSON.stringify({ store: 'photos', key: 'disk.jpg', expiresIn: 600 }),
    });
    assert.equal(minted.status, 201, await minted.clone().text());
    const link = ((await minted.json()) as { token: string }).token;
    for (let i = 0; i < 2; i += 1) {
      assert.equal((await get('/images/photos/disk.jpg?w=30&f=png', auth(grace))).status, 200);
      assert.equal((await get('/images/photos/disk.jpg?w=30&f=png', { Cookie: `other=1; sluice_session=${grace}` })).status, 200);
      await get(`/images/photos/disk.jpg?w=30&f=png&share=${link}`);
    }
    const files = await filesUnder(path.join(stack.dir, 'nginx', 'run', 'decision-cache'));
    assert.ok(
      files.some((f) => f.toString('latin1').includes('/images/photos/disk.jpg')),
      'the cache holds image entries',
    );
    for (const file of files) {
      const text = file.toString('latin1');
      for (const secret of [grace, link]) {
        const [, payload] = secret.split('.');
        assert.ok(!text.includes(secret), 'a whole credential in a cache file');
        assert.ok(!text.includes(payload as string), 'a token payload in a cache file');
      }
    }
  });
});
