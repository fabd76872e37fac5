// The demo host app in a real browser: Debian's Chromium (headless, playwright-core) against
// real nginx (rendered by Sluice), the app in-process, `sluice worker` (transforms and the
// encrypted vault), Redis (counted links) and Swift's S3 API (presigned uploads), with the demo app
// behind the same nginx. Covers login per user, thumbnails (signed and rule-authorized, 1×/2×),
// refusals as pages in words, a unicode download, video seeking with Range (plain and encrypted),
// uploads with progress to every store, share links (list, copy, revoke, expiry), the rate limit,
// the "under the hood" panel, accessibility basics, and the metrics it all produced.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import type { BrowserContext, Page, Response } from 'playwright-core';
import { mintToken } from '../../src/auth/mint.js';
import { createKeyring } from '../../src/crypto/keyring.js';
import { createShareLink, imgproxyUrl } from '../../examples/clients/js/sluice-client.js';
import { launchChromium, type Chromium } from '../../examples/demo/clip/chromium.js';
import {
  demoNginxLocations,
  demoSluiceConfig,
  ownFiles,
  seedDemoStore,
  seedVault,
  startDemoApp,
  unicodeFileText,
  CLIP,
  DEMO_STORE,
  PHOTOS,
  STAFF_GALLERY,
  UNICODE_NAME,
  USERS,
  VAULT_FILES,
  VAULT_STORE,
  type DemoSecrets,
  type RunningDemo,
} from '../../examples/demo/index.js';
import { request } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { startRedis, type RedisTestServer } from '../helpers/redis.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { s3ClientFor, startSwiftS3, type S3TestServer } from '../helpers/swift.js';
import { spawnSluice } from '../helpers/cli-process.js';

// Just what the in-page callbacks touch (the project compiles without the DOM library).
interface MiniImage {
  readonly complete: boolean;
  readonly naturalWidth: number;
  readonly naturalHeight: number;
  getAttribute(name: string): string | null;
  scrollIntoView(): void;
}
interface MiniVideo {
  muted: boolean;
  currentTime: number;
  readonly duration: number;
  readonly readyState: number;
  readonly videoWidth: number;
  readonly error: { code: number } | null;
  addEventListener(event: string, listener: (...args: unknown[]) => void, options?: { once: boolean }): void;
}
declare const document: { readonly cookie: string; querySelector(selector: string): unknown; querySelectorAll(selector: string): Iterable<unknown> };

const execFileAsync = promisify(execFile);
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MIB = 1024 * 1024;
const S3_STORE = 'cloud';
const BUCKET = 'demo-cloud';
const MASTER_PASSWORD = randomBytes(16).toString('hex');

const secrets: DemoSecrets = {
  jwtSecret: randomBytes(24).toString('hex'),
  shareSecret: randomBytes(24).toString('hex'),
  imgproxyKey: randomBytes(16).toString('hex'),
  imgproxySalt: randomBytes(16).toString('hex'),
  workerSecret: randomBytes(24).toString('hex'),
};

let base: string;
let artifacts: string;
let stack: Stack;
let demo: RunningDemo;
let browser: Chromium;
let origin: string;
let s3: S3TestServer;
let redis: RedisTestServer;
const contexts: BrowserContext[] = [];

async function context(): Promise<BrowserContext> {
  const created = await browser.newContext();
  contexts.push(created);
  return created;
}

async function logIn(user: string, width = 1200): Promise<Page> {
  const page = await (await context()).newPage();
  await page.setViewportSize({ width, height: 900 });
  await page.goto(`${origin}/`);
  const account = USERS.find((u) => u.name === user);
  await page.fill('#login-user', user);
  await page.fill('#login-password', account?.password ?? '');
  await Promise.all([page.waitForURL(`${origin}/app/library`, { waitUntil: 'domcontentloaded' }), page.click('button[type=submit]')]);
  assert.equal(await page.textContent('#user'), user);
  return page;
}

async function screenshot(page: Page, name: string, fullPage = true): Promise<string> {
  const file = path.join(artifacts, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  console.log(`# screenshot: ${file}`);
  return file;
}

/**
 * Opens `url` in the page (a navigation: status as the browser sees it) and reads its bytes with
 * the page's fetch, as UTF-8: Sluice sends text/plain without a charset, so the navigation's own
 * rendering of a UTF-8 text file is the browser's guess (Latin-1), not the bytes.
 */
async function open(page: Page, url: string): Promise<{ status: number | undefined; text: string }> {
  const status = (await page.goto(url))?.status();
  const text = await page.evaluate(async (u) => new TextDecoder().decode(await (await fetch(u)).arrayBuffer()), url);
  return { status, text };
}

const fileUrl = (key: string, store = DEMO_STORE): string => `${origin}/files/${store}/${key.split('/').map(encodeURIComponent).join('/')}`;
const card = (store: string, key: string): string => `article.file[data-store="${store}"][data-key="${key}"]`;

/** Waits until every thumbnail has loaded (lazy ones are scrolled into view first). */
async function thumbnailsLoaded(page: Page): Promise<void> {
  await page.$$eval('img.thumb', (imgs) => imgs.forEach((img) => (img as unknown as MiniImage).scrollIntoView()));
  await page.waitForFunction(() =>
    [...document.querySelectorAll('img.thumb')].every((img) => (img as MiniImage).complete && (img as MiniImage).naturalWidth > 0),
  );
}

/** Seeks a <video> on the page to 4.5 s and reports what it played; `ranges` collects its responses. */
async function seek(page: Page, selector: string): Promise<{ duration: number; currentTime: number; width: number }> {
  return page.evaluate(async (sel) => {
    const video = document.querySelector(sel) as MiniVideo;
    video.muted = true;
    if (video.readyState < 1)
      await new Promise((resolve, reject) => {
        video.addEventListener('loadedmetadata', resolve, { once: true });
        video.addEventListener('error', () => reject(new Error(`video error ${String(video.error?.code)}`)), { once: true });
      });
    const duration = video.duration;
    video.currentTime = 4.5;
    await new Promise((resolve) => video.addEventListener('seeked', resolve, { once: true }));
    await new Promise((resolve) => (video.readyState >= 2 ? resolve(null) : video.addEventListener('loadeddata', resolve, { once: true })));
    return { duration, currentTime: video.currentTime, width: video.videoWidth };
  }, selector);
}

before(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'sluice-demo-browser-'));
  artifacts = await mkdtemp(path.join(os.tmpdir(), 'sluice-demo-artifacts-'));
  await chmod(base, 0o755);
  const root = path.join(base, 'store');
  const vaultRoot = path.join(base, 'vault');
  await mkdir(root);
  await mkdir(vaultRoot);
  const keyringFile = path.join(base, 'keyring.json');
  [s3, redis] = (await Promise.all([
    startSwiftS3(),
    startRedis(),
    seedDemoStore(root),
    createKeyring(keyringFile, MASTER_PASSWORD, { id: 'k1', kdfCost: 2 ** 14 }),
  ])) as [S3TestServer, RedisTestServer, undefined, unknown];
  await s3ClientFor(s3).send(new CreateBucketCommand({ Bucket: BUCKET }));
  const demoPort = await freePort();
  const config = demoSluiceConfig({
    root,
    secrets,
    vault: { root: vaultRoot, encryption: { keyringFile, passwordFile: '/dev/fd/3', chunkSize: 16 * 1024 } },
    s3: { name: S3_STORE, bucket: BUCKET, endpoint: s3.endpoint, region: s3.region, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    redisUrl: redis.url,
    multipartThresholdBytes: 5 * MIB,
  });
  stack = await startStack(config, {
    worker: true,
    workerPassword: MASTER_PASSWORD,
    extraServerConfig: demoNginxLocations(`127.0.0.1:${demoPort}`, { s3Passthrough: { bucket: BUCKET, endpoint: s3.endpoint } }),
  });
  origin = `http://127.0.0.1:${stack.port}`;
  await seedVault(origin, secrets.jwtSecret);
  demo = await startDemoApp({
    secrets,
    sluiceUrl: '',
    sluiceApi: origin,
    port: demoPort,
    vaultStore: VAULT_STORE,
    s3Store: S3_STORE,
    countedLinks: true,
    audit: () => stack.logs(),
  });
  browser = await launchChromium();
});

after(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await demo?.close();
  await stack?.stop();
  await s3?.stop();
  await redis?.stop();
  if (base !== undefined) await rm(base, { recursive: true, force: true });
  console.log(`# screenshots kept in ${artifacts}`);
});

describe('demo host app in Chromium', () => {
  it('alice logs in; thumbnails render as AVIF or WebP (signed and rule-authorized, 1×/2×), no request fails, not even the favicon', async () => {
    const page = await (await context()).newPage();
    await page.setViewportSize({ width: 1200, height: 900 });
    const images: Response[] = [];
    const failed: string[] = [];
    page.on('response', (res) => {
      if (/\/(images|img)\//.test(res.url())) images.push(res);
      if (res.status() >= 400) failed.push(`${res.status()} ${res.url()}`);
    });
    await page.goto(`${origin}/`);
    await screenshot(page, 'login', false);
    await page.fill('#login-user', 'alice');
    await page.fill('#login-password', 'alice-demo');
    await Promise.all([page.waitForURL(`${origin}/app/library`), page.click('button[type=submit]')]);
    // The token is an HttpOnly cookie: the page's scripts cannot read it.
    assert.equal(await page.evaluate(() => document.cookie), '');
    await thumbnailsLoaded(page);
    const thumbs = await page.$$eval('img.thumb', (imgs) =>
      imgs.map((img) => ({
        via: img.getAttribute('data-via'),
        lazy: img.getAttribute('loading'),
        srcset: img.getAttribute('srcset'),
        width: (img as unknown as MiniImage).naturalWidth,
        height: (img as unknown as MiniImage).naturalHeight,
      })),
    );
    // Own photos and the staff gallery signed by the host app; the vault photo through Sluice's rules.
    assert.equal(thumbs.length, PHOTOS.length + STAFF_GALLERY.length + 1);
    assert.deepEqual(new Set(thumbs.map((t) => t.via)), new Set(['signed', 'rules']));
    for (const t of thumbs) {
      assert.equal(t.lazy, 'lazy');
      assert.match(t.srcset ?? '', / 1x, .+ 2x$/);
      assert.deepEqual([t.width, t.height], [240, 160], JSON.stringify(t));
    }
    for (const res of images) {
      assert.equal(res.status(), 200, res.url());
      assert.match(res.headers()['content-type'] ?? '', /^image\/(avif|webp)$/, res.url());
    }
    // A poster on every video; names and sizes on every card.
    assert.deepEqual(await page.$$eval('video', (vs) => vs.map((v) => /clip-poster\.jpg$/.test(v.getAttribute('poster') ?? ''))), [true, true]);
    assert.match((await page.textContent(`${card(DEMO_STORE, `users/alice/${UNICODE_NAME}`)} .meta`)) ?? '', /^\d+ B · text\/plain$/);
    assert.equal((await page.request.get(`${origin}/favicon.ico`)).status(), 200);
    await page.waitForSelector('#hood-rows tr[data-decision]');
    assert.deepEqual(failed, []);
    await page.evaluate(() => (document.querySelector('#main') as MiniImage).scrollIntoView());
    await screenshot(page, 'library');
    await screenshot(page, 'library-top', false);
    // The README's picture: the library at a laptop width, first screen only.
    const shot = await screenshot(page, 'demo-library', false);
    assert.ok((await readFile(shot)).length > 1000);
  });

  it('accessibility basics: labelled controls, readable text contrast, every control reachable by keyboard', async () => {
    const page = await logIn('alice');
    const problems = (await page.evaluate(`(${A11Y_CHECK})()`)) as string[];
    assert.deepEqual(problems, []);
    // Tab through the page: the main controls all take the focus.
    const reached = new Set<string>();
    for (let i = 0; i < 90; i++) {
      await page.keyboard.press('Tab');
      reached.add((await page.evaluate(`(() => { const e = document.activeElement; return e.id || e.className || e.tagName; })()`)) as string);
    }
    for (const expected of ['drop', 'upload-store', 'btn view', 'btn download', 'linkish hood-btn', 'btn', 'try-forbidden', 'try-ratelimit'])
      assert.ok(reached.has(expected), `${expected} not reached by Tab: ${[...reached].join(', ')}`);
    // A narrow screen keeps every card usable.
    await page.setViewportSize({ width: 390, height: 844 });
    assert.equal(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), true);
    await screenshot(page, 'library-phone', false);
  });

  it('downloads a file with its unicode name and exact bytes', async () => {
    const page = await logIn('alice');
    const link = page.locator(`${card(DEMO_STORE, `users/alice/${UNICODE_NAME}`)} a.download`);
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    assert.equal(download.suggestedFilename(), UNICODE_NAME);
    assert.equal(await readFile(await download.path(), 'utf8'), unicodeFileText('alice'));
  });

  it('plays the video, plain and from the encrypted vault, and seeks with Range requests (206)', async () => {
    const page = await logIn('alice');
    const ranges: { store: string; status: number; contentRange: string | undefined }[] = [];
    page.on('response', (res) => {
      const m = new RegExp(`/files/(\\w+)/users/alice/${CLIP}$`).exec(res.url());
      if (m !== null) ranges.push({ store: m[1] as string, status: res.status(), contentRange: res.headers()['content-range'] });
    });
    await page.reload();
    for (const store of [DEMO_STORE, VAULT_STORE]) {
      const state = await seek(page, `${card(store, `users/alice/${CLIP}`)} video`);
      assert.equal(state.duration, 6, store);
      assert.ok(Math.abs(state.currentTime - 4.5) < 0.01, JSON.stringify(state));
      assert.equal(state.width, 320);
      const partial = ranges.filter((r) => r.store === store && r.status === 206);
      assert.ok(partial.length > 0, JSON.stringify(ranges));
      for (const r of partial) assert.match(r.contentRange ?? '', /^bytes \d+-\d+\/64215$/);
    }
    // The vault's bytes on disk are ciphertext; the browser got the plain clip.
    assert.notDeepEqual(await readFile(path.join(base, 'vault', 'users', 'alice', CLIP)), await readFile(path.join(REPO, 'examples/demo/assets', CLIP)));
    assert.equal(
      (
        await request(stack.port, `/files/${VAULT_STORE}/users/alice/${CLIP}`, {
          headers: { Authorization: `Bearer ${await mintToken({ secret: secrets.jwtSecret, sub: 'alice', ttlSeconds: 60 })}`, Range: 'bytes=-100' },
        })
      ).status,
      206,
    );
  });

  it('bob sees only his own files; refusals are pages in words (403, 401), API clients still get JSON', async () => {
    const page = await logIn('bob');
    const keys = await page.$$eval(`#files article.file`, (items) => items.map((a) => a.getAttribute('data-key')));
    assert.deepEqual(keys, ownFiles('bob'));
    assert.equal(await page.$('#gallery'), null);
    await thumbnailsLoaded(page);
    assert.deepEqual(await open(page, fileUrl('users/bob/notes.txt')), { status: 200, text: 'Private notes of bob.\n' });
    await page.goto(`${origin}/app/library`);
    // The page's "try it" link: someone else's file, through the demo's door.
    const [refused] = await Promise.all([page.waitForNavigation(), page.click('#try-forbidden')]);
    assert.equal(refused?.status(), 403);
    assert.equal(await page.textContent('#error h1'), 'That file is not yours');
    await screenshot(page, 'error-403', false);
    // Without logging in: "please log in", with a way to.
    const anonymous = await (await context()).newPage();
    const login = await anonymous.goto(`${origin}/app/open/${DEMO_STORE}/users/bob/notes.txt`);
    assert.equal(login?.status(), 401);
    assert.equal(await anonymous.getAttribute('#error a.btn', 'href'), '/');
    const missing = await anonymous.goto(`${origin}/app/nothing-here`);
    assert.equal(missing?.status(), 404);
    assert.equal(await anonymous.textContent('#error h1'), 'Not found');
    // The gateway's own answers are unchanged for API clients.
    const other = await page.goto(fileUrl('users/alice/notes.txt'));
    assert.equal(other?.status(), 403);
    assert.deepEqual(await other?.json(), { error: 'forbidden' });
    assert.equal((await page.goto(`${origin}/images/${DEMO_STORE}/users/alice/${PHOTOS[0]}?rs=fill:240:160`))?.status(), 403);
    assert.equal((await page.goto(fileUrl(STAFF_GALLERY[0])))?.status(), 403);
    assert.equal((await page.goto(fileUrl(`users/alice/${VAULT_FILES[2]}`, VAULT_STORE)))?.status(), 403);
  });

  it('shares: expiry and use count, post/redirect/get, absolute link copied, listed with local time; anonymous page; revoke from the list → 410 page', async () => {
    const ctx = await context();
    await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
    const page = await ctx.newPage();
    await page.setViewportSize({ width: 1200, height: 900 });
    await page.goto(`${origin}/`);
    await page.fill('#login-user', 'alice');
    await page.fill('#login-password', 'alice-demo');
    await Promise.all([page.waitForURL(`${origin}/app/library`), page.click('button[type=submit]')]);
    const unicode = card(DEMO_STORE, `users/alice/${UNICODE_NAME}`);
    await page.click(`${unicode} details.share summary`);
    await page.selectOption(`${unicode} select[name=expires]`, '86400');
    await page.fill(`${unicode} input[name=uses]`, '3');
    await Promise.all([page.waitForURL(/\/app\/library\?shared=/), page.click(`${unicode} button.create-link`)]);
    // Post/redirect/get: the result page reloads without re-posting.
    assert.equal((await page.reload())?.status(), 200);
    assert.match((await page.textContent('#shared')) ?? '', new RegExp(`Link to “${UNICODE_NAME}” created.*up to 3 downloads`, 's'));
    const url = (await page.inputValue('#shared-url')) ?? '';
    assert.ok(url.startsWith(`${origin}/app/s/${DEMO_STORE}/users/alice/`), url);
    await page.click('#shared button.copy');
    assert.equal(await page.evaluate('navigator.clipboard.readText()'), url);
    // Listed: uses, expiry in local time (not the ISO string).
    const row = page.locator('#link-table tbody tr').first();
    assert.equal(await row.locator('td').nth(0).textContent(), UNICODE_NAME);
    assert.equal(await row.locator('td').nth(2).textContent(), 'up to 3');
    const shown = (await row.locator('time').textContent()) ?? '';
    assert.doesNotMatch(shown, /T\d\d:\d\d:\d\d/);
    await screenshot(page, 'share-links');

    // An anonymous visitor: the page names the file; the download takes one use.
    const stranger = await (await context()).newPage();
    assert.equal((await stranger.goto(url))?.status(), 200);
    assert.equal(await stranger.textContent('#shared-file h1'), UNICODE_NAME);
    assert.match((await stranger.textContent('#shared-file .eyebrow')) ?? '', /alice shared a file with you/);
    await screenshot(stranger, 'shared-page', false);
    const [download] = await Promise.all([stranger.waitForEvent('download'), stranger.click('#shared-download')]);
    assert.equal(download.suggestedFilename(), UNICODE_NAME);
    assert.equal(await readFile(await download.path(), 'utf8'), unicodeFileText('alice'));

    // Revoke from the list (post/redirect/get again), then the visitor's page says it is gone.
    await Promise.all([page.waitForURL(/\/app\/library\?revoked=/), row.locator('button.revoke').click()]);
    assert.ok(await page.isVisible('#revoked'));
    assert.equal(await page.$('#link-table'), null);
    const gone = await stranger.goto(url);
    assert.equal(gone?.status(), 410);
    assert.equal(await stranger.textContent('#error h1'), 'This link is gone');
    await screenshot(stranger, 'error-410', false);
    // The gateway link itself answers API clients with JSON.
    const direct = await stranger.goto(url.replace('/app/s/', '/files/'));
    assert.equal(direct?.status(), 410);
    assert.deepEqual(await direct?.json(), { error: 'share link revoked' });
  });

  it('a share link stops working when it expires (minted with the JS client helper)', async () => {
    const token = await mintToken({ secret: secrets.jwtSecret, sub: 'alice', ttlSeconds: 300 });
    // Long enough for the first load on a loaded machine; the wait below is until its expiry anyway.
    const minted = await createShareLink(origin, token, { store: DEMO_STORE, key: 'users/alice/notes.txt', expiresIn: 10 });
    const stranger = await (await context()).newPage();
    assert.deepEqual(await open(stranger, `${origin}${minted.url ?? ''}`), { status: 200, text: 'Private notes of alice.\n' });
    // Wait past the expiry (second resolution), then the same link is gone.
    const wait = Date.parse(minted.expiresAt) + 1100 - Date.now();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
    const expired = await stranger.goto(`${origin}${minted.url ?? ''}`);
    assert.equal(expired?.status(), 410);
    assert.deepEqual(await expired?.json(), { error: 'share link expired' });
  });

  it('uploads with progress: disk (nginx offload, picker and drag-and-drop), vault (encrypted), S3 single PUT and multipart; write-once refusals in words', async () => {
    const page = await logIn('alice');
    const finished = async (n: number): Promise<void> => {
      await page.waitForSelector(`#upload-list[data-finished="${n}"]`);
    };
    // The newest line for a name (a second upload of the same name adds a line).
    const state = (name: string): Promise<string | null> => page.locator(`#upload-list li[data-name="${name}"] .state`).last().textContent();
    const progressFull = (name: string): Promise<boolean> =>
      page
        .locator(`#upload-list li[data-name="${name}"] progress`)
        .last()
        .evaluate((p) => (p as unknown as { value: number }).value > 0 && (p as unknown as { value: number }).value === (p as unknown as { max: number }).max);
    const big = randomBytes(2 * MIB);
    // Disk, with the picker.
    await page.setInputFiles('#upload-input', { name: 'report.bin', mimeType: 'application/octet-stream', buffer: big });
    await finished(1);
    assert.equal(await state('report.bin'), 'Uploaded ✓');
    assert.ok(await progressFull('report.bin'));
    assert.deepEqual(await readFile(path.join(base, 'store', 'users', 'alice', 'report.bin')), big);
    // The same name again: write-once, said in words.
    await page.setInputFiles('#upload-input', { name: 'report.bin', mimeType: 'application/octet-stream', buffer: Buffer.from('other') });
    await finished(2);
    assert.match((await state('report.bin')) ?? '', /already exists — uploads never overwrite/);
    // Disk, dropped on the drop zone.
    const dropped = await page.evaluateHandle(
      `(() => { const dt = new DataTransfer(); dt.items.add(new File(['dropped text\\n'], 'dropped.txt', { type: 'text/plain' })); return dt; })()`,
    );
    await page.dispatchEvent('#drop', 'drop', { dataTransfer: dropped });
    await finished(3);
    assert.equal(await state('dropped.txt'), 'Uploaded ✓');
    // The vault: encrypted by the worker on the way in.
    await page.selectOption('#upload-store', VAULT_STORE);
    await page.setInputFiles('#upload-input', { name: 'vault-note.txt', mimeType: 'text/plain', buffer: Buffer.from('secret note\n') });
    await finished(4);
    assert.equal(await state('vault-note.txt'), 'Uploaded ✓');
    assert.notEqual((await readFile(path.join(base, 'vault', 'users', 'alice', 'vault-note.txt'))).toString(), 'secret note\n');
    // S3: one presigned PUT, then multipart above 5 MiB (3 parts), straight to the bucket.
    await page.selectOption('#upload-store', S3_STORE);
    const huge = randomBytes(11 * MIB);
    await page.setInputFiles('#upload-input', [
      { name: 'small.png', mimeType: 'image/png', buffer: await readFile(path.join(base, 'store', 'users', 'alice', PHOTOS[0])) },
      { name: 'large.bin', mimeType: 'application/octet-stream', buffer: huge },
    ]);
    await page.waitForFunction(() =>
      /multipart: part \d of 3/.test(
        (document.querySelector('#upload-list li[data-name="large.bin"] .state') as { textContent: string } | null)?.textContent ?? '',
      ),
    );
    await finished(6);
    assert.equal(await state('small.png'), 'Uploaded ✓');
    assert.equal(await state('large.bin'), 'Uploaded ✓');
    assert.ok(await progressFull('large.bin'));
    const head = await s3ClientFor(s3).send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'users/alice/large.bin' }));
    assert.equal(head.ContentLength, 11 * MIB);
    assert.match(head.ETag ?? '', /-3"$/);
    await screenshot(page, 'uploads', false);
    // The S3 store is write-once too.
    await page.setInputFiles('#upload-input', { name: 'small.png', mimeType: 'image/png', buffer: Buffer.from('x') });
    await finished(7);
    assert.match((await state('small.png')) ?? '', /already exists/);
    // The library lists them all, with sizes, and serves them back.
    await Promise.all([page.waitForURL(/\/app\/library/), page.click('#show-uploads')]);
    assert.equal(await page.textContent(`${card(DEMO_STORE, 'users/alice/report.bin')} .size`), '2.0 MiB');
    assert.equal(await page.textContent(`${card(S3_STORE, 'users/alice/large.bin')} .size`), '11 MiB');
    assert.equal(await page.textContent(`${card(VAULT_STORE, 'users/alice/vault-note.txt')} .size`), '12 B');
    assert.deepEqual(await open(page, fileUrl('users/alice/vault-note.txt', VAULT_STORE)), { status: 200, text: 'secret note\n' });
  });

  it('"under the hood" shows each decision: rule, source, latency, who moved the bytes — never a token', async () => {
    const page = await logIn('alice');
    const unicode = card(DEMO_STORE, `users/alice/${UNICODE_NAME}`);
    await page.click(`${unicode} .hood-btn`);
    await page.waitForSelector(`#hood-rows tr[data-key="users/alice/${UNICODE_NAME}"]`);
    const rows = await page.$$eval('#hood-rows tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    assert.ok(rows.length > 0);
    for (const cells of rows) {
      assert.match(cells[1] ?? '', new RegExp(`users/alice/${UNICODE_NAME}`));
      assert.match(cells[4] ?? '', /^\d+\.\d\d ms$/);
    }
    // Alice's own requests (the fresh HEAD among them), and the share-link visitor's from before.
    assert.ok(
      rows.some((cells) => /— alice$/.test(cells[1] ?? '') && cells[3] === 'rule “own-folder”' && cells[5] === 'nginx (X-Accel-Redirect)'),
      JSON.stringify(rows),
    );
    assert.ok(
      rows.some((cells) => /— visitor with a share link$/.test(cells[1] ?? '') && cells[3] === 'rule “share-link”'),
      JSON.stringify(rows),
    );
    await page.click('#hood details.raw summary');
    const raw = JSON.parse((await page.textContent('#hood-raw')) ?? '{}') as { audit: Record<string, unknown> };
    assert.equal(raw.audit.rule, 'own-folder');
    assert.equal(raw.audit.decision, 'allow');
    assert.equal(typeof raw.audit.requestId, 'string');
    await screenshot(page, 'under-the-hood');
    const api = await page.evaluate(async () => (await fetch('/app/api/decisions')).text());
    assert.doesNotMatch(api, /eyJ|share=|X-Amz-Signature/);
  });

  it('the rate limit: 80 requests at once, the extra ones get 429, and a person sees a "slow down" page', async () => {
    const page = await logIn('bob');
    await page.click('#try-ratelimit');
    await page.waitForSelector('#see-429');
    const [allowed, limited] = ((await page.textContent('#ratelimit-result')) ?? '').match(/\d+/g)?.map(Number) ?? [];
    assert.equal((allowed ?? 0) + (limited ?? 0), 80);
    // The burst is 40 and the refill 5/s: the 80 requests (6 connections at a time in Chromium)
    // would have to take 8 s for none to be refused; so "at least one".
    assert.ok((limited ?? 0) > 0 && (allowed ?? 0) >= 40, `${allowed} allowed, ${limited} limited`);
    const [res] = await Promise.all([page.waitForNavigation(), page.click('#see-429')]);
    assert.equal(res?.status(), 429);
    assert.equal(await page.textContent('#error h1'), 'Slow down');
    await screenshot(page, 'error-429', false);
  });
});

/** In-page (plain JS string: the project compiles without the DOM library). Returns problems found. */
const A11Y_CHECK = `function () {
  const problems = [];
  for (const el of document.querySelectorAll('input, select, textarea, button')) {
    if (el.type === 'hidden') continue;
    const named = (el.labels && el.labels.length > 0) || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || (el.tagName === 'BUTTON' && el.textContent.trim() !== '');
    if (!named) problems.push('no label: ' + el.outerHTML.slice(0, 80));
  }
  for (const img of document.querySelectorAll('img')) if (!img.hasAttribute('alt')) problems.push('no alt: ' + img.outerHTML.slice(0, 80));
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const background = (el) => { for (let e = el; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3); } return [255, 255, 255]; };
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim() !== '');
    if (!own || el.closest('.sr-only, .skip, video, pre') || el.offsetParent === null) continue;
    const fg = lum(rgb(getComputedStyle(el).color)); const bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    if (ratio < 4.5) problems.push('contrast ' + ratio.toFixed(2) + ': ' + el.tagName + ' ' + el.textContent.trim().slice(0, 40));
  }
  return problems;
}`;

describe('client helpers against the running gateway', () => {
  const python = (script: string, ...args: string[]): Promise<string> =>
    execFileAsync('python3', [
      '-c',
      `import sys, json; sys.path.insert(0, ${JSON.stringify(path.join(REPO, 'examples/clients/python'))}); import sluice_client as s\n${script}`,
      ...args,
    ]).then((r) => r.stdout.trim());

  it('Python, JS and shell sign the same imgproxy URL, and Sluice serves it', async () => {
    const source = `local:///${STAFF_GALLERY[1]}`;
    const fromPython = await python(
      'print(s.imgproxy_url(sys.argv[1], sys.argv[2], ["rs:fit:120:0"], sys.argv[3], extension="webp"))',
      secrets.imgproxyKey,
      secrets.imgproxySalt,
      source,
    );
    const fromJs = imgproxyUrl({ key: secrets.imgproxyKey, salt: secrets.imgproxySalt, options: ['rs:fit:120:0'], source, extension: 'webp' });
    assert.equal(fromPython, fromJs);
    const pathAfterImg = fromJs.slice('/img'.length);
    const unsigned = pathAfterImg.slice(pathAfterImg.indexOf('/', 1));
    const fromShell = (
      await execFileAsync(path.join(REPO, 'examples/clients/shell/sign-imgproxy.sh'), [secrets.imgproxyKey, secrets.imgproxySalt, unsigned])
    ).stdout.trim();
    assert.equal(`/img${fromShell}`, fromJs);
    const res = await request(stack.port, fromPython);
    assert.equal(res.status, 200, res.text());
    assert.equal(res.headers['content-type'], 'image/webp');
    const tampered = await request(stack.port, fromPython.replace('rs:fit:120:0', 'rs:fit:1200:0'));
    assert.equal(tampered.status, 403);
  });

  it('Python mints and revokes a share link with the user’s token', async () => {
    const token = await mintToken({ secret: secrets.jwtSecret, sub: 'bob', ttlSeconds: 300 });
    const link = JSON.parse(
      await python(
        'print(json.dumps(s.create_share_link(sys.argv[1], sys.argv[2], {"store": "demo", "key": "users/bob/notes.txt", "expiresIn": 600})))',
        origin,
        token,
      ),
    ) as { id: string; url: string };
    const opened = await request(stack.port, link.url);
    assert.equal(opened.status, 200);
    assert.equal(opened.text(), 'Private notes of bob.\n');
    // Revoke it; then try someone else's file: Sluice refuses to mint (no `share` rule for bob there).
    const [revoked, refused] = (
      await python(
        'print(s.revoke_share_link(sys.argv[1], sys.argv[2], sys.argv[3]))\ntry:\n  s.create_share_link(sys.argv[1], sys.argv[2], {"store": "demo", "key": "users/alice/notes.txt", "expiresIn": 60})\nexcept RuntimeError as e:\n  print(e)',
        origin,
        token,
        link.id,
      )
    ).split('\n');
    assert.equal(revoked, 'True');
    assert.equal((await request(stack.port, link.url)).status, 410);
    assert.match(refused ?? '', /^share link refused: 403/);
  });
});

describe('metrics of the session above', () => {
  it('are on the app and worker ports, never through nginx', async () => {
    for (const p of ['/metrics', '/healthz', '/readyz']) {
      const res = await request(stack.port, p);
      assert.equal(res.status, 404, p);
      assert.doesNotMatch(res.text(), /sluice_|"status"/, p);
    }
    const app = (await request(stack.app.port, '/metrics')).text();
    assert.match(app, /^sluice_access_decisions_total\{store="demo",decision="allow"\} [1-9]\d*$/m);
    assert.match(app, /^sluice_access_decisions_total\{store="demo",decision="deny"\} [1-9]\d*$/m);
    assert.match(app, /^sluice_access_decision_seconds_count\{source="rule"\} [1-9]\d*$/m);
    assert.match(app, /^sluice_http_requests_total\{route="files",method="GET",status="200"\} [1-9]\d*$/m);
    const worker = (await request(stack.worker?.port as number, '/metrics')).text();
    assert.match(worker, /^sluice_worker_render_seconds_count\{format="(avif|webp)"\} [1-9]\d*$/m);
    assert.match(worker, /^sluice_worker_active 0$/m);
    assert.match(worker, /^sluice_worker_waiting 0$/m);
    assert.match(worker, /^sluice_worker_rss_bytes \d{7,}$/m);
  });
});

describe('`sluice dev --demo` (npm start with the demo)', () => {
  it('serves the demo behind the dev nginx; a login gets a cookie that Sluice accepts; Ctrl-C stops it all', async () => {
    const port = await freePort();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-dev-demo-'));
    const sluice = spawnSluice(['dev', '--demo', '--data', path.join(dir, 'data'), '--state', path.join(dir, 'state')], {
      SLUICE_PORT: String(port),
      SLUICE_LOG_LEVEL: 'warn',
      MALLOC_ARENA_MAX: '2',
    });
    const { child, exited } = sluice;
    try {
      const output = await sluice.waitFor(/Demo host app: /, 40_000);
      assert.match(output, new RegExp(`Demo host app: http://127\\.0\\.0\\.1:${port}/`), output);
      const login = await formPost(port, '/app/login', 'user=alice&password=alice-demo');
      assert.equal(login.status, 303);
      const cookie = /^(sluice_session=[^;]+);.*httponly/i.exec(String(login.headers['set-cookie']))?.[1];
      assert.ok(cookie !== undefined, String(login.headers['set-cookie']));
      const library = await request(port, '/app/library', { headers: { Cookie: cookie } });
      assert.equal(library.status, 200);
      const thumb = /src="(\/img\/[^"]+)"/.exec(library.text())?.[1];
      assert.ok(thumb !== undefined);
      const image = await request(port, thumb.replaceAll('&amp;', '&'), { headers: { Cookie: cookie, Accept: 'image/webp,*/*' } });
      assert.equal(image.status, 200);
      assert.equal(image.headers['content-type'], 'image/webp');
      const vaultThumb = /src="(\/images\/vault\/[^"]+)"/.exec(library.text())?.[1] ?? '';
      assert.equal((await request(port, vaultThumb.replaceAll('&amp;', '&'), { headers: { Cookie: cookie, Accept: 'image/webp,*/*' } })).status, 200);
      assert.equal((await request(port, `/files/demo/users/bob/notes.txt`, { headers: { Cookie: cookie } })).status, 403);
      // Without Redis, share links cannot count downloads: the option is off and says why.
      assert.match(library.text(), /name="uses" type="number"[^>]* disabled/);
      assert.match(library.text(), /Counting downloads needs Redis/);
      // The encrypted vault was seeded at start (through the worker) and reads back as plain text.
      const vault = await request(port, '/files/vault/users/alice/passwords-not-really.txt', { headers: { Cookie: cookie } });
      assert.equal(vault.status, 200);
      assert.match(vault.text(), /^Encrypted at rest, decrypted by the worker for alice only/);
      // The panel reads the gateway's audit lines even though stdout logs only warnings.
      const decisions = await request(port, '/app/api/decisions', { headers: { Cookie: cookie } });
      const rows = (JSON.parse(decisions.text()) as { rows: { key: string; decision: string; rule: string }[] }).rows;
      assert.ok(
        rows.some((r) => r.key === 'users/alice/passwords-not-really.txt' && r.decision === 'allow' && r.rule === 'own-folder'),
        decisions.text(),
      );
      assert.doesNotMatch(sluice.output(), /"audit"/);
      assert.equal((await request(port, '/favicon.ico')).status, 200);
      // The plain dev sample still works with the printed token.
      const token = /Bearer ([\w.-]+)/.exec(output)?.[1] ?? '';
      assert.equal((await request(port, '/files/demo/hello.txt', { headers: { Authorization: `Bearer ${token}` } })).status, 200);
      child.kill('SIGINT');
      assert.equal(await exited, 0);
      await assert.rejects(request(port, '/'), 'nginx is gone too');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** A urlencoded form POST with the raw client (the helper sends no body). */
function formPost(port: number, target: string, body: string): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: target,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body) },
        agent: false,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
