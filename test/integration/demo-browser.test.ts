// The demo host app in a real browser: Debian's Chromium (headless, playwright-core) against
// real nginx (rendered by Sluice), the app in-process, `sluice worker` and the demo app behind
// the same nginx. Covers login per user, negotiated thumbnails, refusals, a unicode download,
// video seeking with Range, share links (revocation and expiry), and the metrics it produced.
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
import type { BrowserContext, Page, Response } from 'playwright-core';
import { mintToken } from '../../src/auth/mint.js';
import { createShareLink, imgproxyUrl } from '../../examples/clients/js/sluice-client.js';
import { launchChromium, type Chromium } from '../../examples/demo/clip/chromium.js';
import {
  demoNginxLocations,
  demoSluiceConfig,
  ownFiles,
  seedDemoStore,
  startDemoApp,
  unicodeFileText,
  CLIP,
  DEMO_STORE,
  PHOTOS,
  STAFF_GALLERY,
  UNICODE_NAME,
  USERS,
  type DemoSecrets,
  type RunningDemo,
} from '../../examples/demo/index.js';
import { request } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { spawnSluice } from '../helpers/cli-process.js';

// Just what the in-page callbacks touch (the project compiles without the DOM library).
interface MiniImage {
  readonly complete: boolean;
  readonly naturalWidth: number;
  readonly naturalHeight: number;
  getAttribute(name: string): string | null;
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

const secrets: DemoSecrets = {
  jwtSecret: randomBytes(24).toString('hex'),
  shareSecret: randomBytes(24).toString('hex'),
  imgproxyKey: randomBytes(16).toString('hex'),
  imgproxySalt: randomBytes(16).toString('hex'),
  workerSecret: randomBytes(24).toString('hex'),
};

let base: string;
let stack: Stack;
let demo: RunningDemo;
let browser: Chromium;
let origin: string;
const contexts: BrowserContext[] = [];

async function context(): Promise<BrowserContext> {
  const created = await browser.newContext();
  contexts.push(created);
  return created;
}

async function logIn(user: string): Promise<Page> {
  const page = await (await context()).newPage();
  await page.goto(`${origin}/`);
  const account = USERS.find((u) => u.name === user);
  await page.fill('input[name=user]', user);
  await page.fill('input[name=password]', account?.password ?? '');
  await Promise.all([page.waitForURL(`${origin}/app/library`), page.click('button[type=submit]')]);
  assert.equal(await page.textContent('#user'), user);
  return page;
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

const fileUrl = (key: string): string => `${origin}/files/${DEMO_STORE}/${key.split('/').map(encodeURIComponent).join('/')}`;

before(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'sluice-demo-browser-'));
  await chmod(base, 0o755);
  const root = path.join(base, 'store');
  await mkdir(root);
  await seedDemoStore(root);
  const demoPort = await freePort();
  stack = await startStack(demoSluiceConfig(root, secrets), { worker: true, extraServerConfig: demoNginxLocations(`127.0.0.1:${demoPort}`) });
  origin = `http://127.0.0.1:${stack.port}`;
  demo = await startDemoApp({ secrets, sluiceUrl: '', sluiceApi: origin, port: demoPort });
  browser = await launchChromium();
});

after(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await demo?.close();
  await stack?.stop();
  if (base !== undefined) await rm(base, { recursive: true, force: true });
});

describe('demo host app in Chromium', () => {
  it('alice logs in; every thumbnail renders as AVIF or WebP, native and signed', async () => {
    const page = await (await context()).newPage();
    const images: Response[] = [];
    page.on('response', (res) => {
      if (/\/(images|img)\//.test(res.url())) images.push(res);
    });
    await page.goto(`${origin}/`);
    await page.fill('input[name=user]', 'alice');
    await page.fill('input[name=password]', 'alice-demo');
    await Promise.all([page.waitForURL(`${origin}/app/library`), page.click('button[type=submit]')]);
    // The token is an HttpOnly cookie: the page's scripts cannot read it.
    assert.equal(await page.evaluate(() => document.cookie), '');
    await page.waitForFunction(() => [...document.querySelectorAll('img.thumb')].every((img) => (img as MiniImage).complete));
    const widths = await page.$$eval('img.thumb', (imgs) => imgs.map((img) => ({ via: img.getAttribute('data-via'), width: (img as MiniImage).naturalWidth, height: (img as MiniImage).naturalHeight })));
    assert.equal(widths.length, PHOTOS.length + STAFF_GALLERY.length);
    assert.deepEqual(new Set(widths.map((w) => w.via)), new Set(['native', 'signed']));
    for (const w of widths) assert.deepEqual([w.width, w.height], [240, 160], JSON.stringify(w));
    assert.equal(images.length, widths.length);
    for (const res of images) {
      assert.equal(res.status(), 200, res.url());
      assert.match(res.headers()['content-type'] ?? '', /^image\/(avif|webp)$/, res.url());
      assert.match(res.headers().vary ?? '', /Accept/);
    }
    // Kept after the run (the rest of the temp dir is removed): look at it.
    const shot = path.join(await mkdtemp(path.join(os.tmpdir(), 'sluice-demo-artifacts-')), 'gallery.png');
    await page.locator('#gallery').screenshot({ path: shot });
    console.log(`# gallery screenshot: ${shot}`);
    assert.ok((await readFile(shot)).length > 1000);
  });

  it('downloads a file with its unicode name and exact bytes', async () => {
    const page = await logIn('alice');
    const link = page.locator(`li[data-key="users/alice/${UNICODE_NAME}"] a.download`);
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    assert.equal(download.suggestedFilename(), UNICODE_NAME);
    const saved = await download.path();
    assert.equal(await readFile(saved, 'utf8'), unicodeFileText('alice'));
  });

  it('plays the video through Sluice and seeks with Range requests (206)', async () => {
    const page = await logIn('alice');
    const ranges: { status: number; range: string | undefined; contentRange: string | undefined }[] = [];
    page.on('response', async (res) => {
      if (res.url().endsWith(`/${CLIP}`)) ranges.push({ status: res.status(), range: (await res.request().allHeaders()).range, contentRange: res.headers()['content-range'] });
    });
    // Reload so the listener sees the video's first request too.
    await page.reload();
    const state = await page.evaluate(async () => {
      const video = document.querySelector('#clip') as MiniVideo;
      video.muted = true;
      if (video.readyState < 1) await new Promise((resolve, reject) => {
        video.addEventListener('loadedmetadata', resolve, { once: true });
        video.addEventListener('error', () => reject(new Error(`video error ${String(video.error?.code)}`)), { once: true });
      });
      const duration = video.duration;
      video.currentTime = 4.5;
      await new Promise((resolve) => video.addEventListener('seeked', resolve, { once: true }));
      await new Promise((resolve) => (video.readyState >= 2 ? resolve(null) : video.addEventListener('loadeddata', resolve, { once: true })));
      return { duration, currentTime: video.currentTime, width: video.videoWidth, readyState: video.readyState };
    });
    assert.equal(state.duration, 6);
    assert.ok(Math.abs(state.currentTime - 4.5) < 0.01, JSON.stringify(state));
    assert.equal(state.width, 320);
    assert.ok(ranges.length > 0);
    const partial = ranges.filter((r) => r.status === 206);
    assert.ok(partial.length > 0, JSON.stringify(ranges));
    for (const r of partial) {
      assert.match(r.range ?? '', /^bytes=\d+-\d*$/);
      assert.match(r.contentRange ?? '', /^bytes \d+-\d+\/\d+$/);
    }
  });

  it('bob sees only his own files; alice’s files, thumbnails and gallery are refused', async () => {
    const page = await logIn('bob');
    const keys = await page.$$eval('#files li', (items) => items.map((li) => li.getAttribute('data-key')));
    assert.deepEqual(keys, ownFiles('bob'));
    await page.waitForFunction(() => [...document.querySelectorAll('img.thumb')].every((img) => (img as MiniImage).complete));
    const thumbs = await page.$$eval('img.thumb', (imgs) => imgs.map((img) => [img.getAttribute('data-via'), (img as MiniImage).naturalWidth]));
    assert.deepEqual(thumbs, PHOTOS.map(() => ['native', 240]));
    assert.deepEqual(await open(page, fileUrl('users/bob/notes.txt')), { status: 200, text: 'Private notes of bob.\n' });
    const other = await page.goto(fileUrl('users/alice/notes.txt'));
    assert.equal(other?.status(), 403);
    assert.deepEqual(await other?.json(), { error: 'forbidden' });
    const otherThumb = await page.goto(`${origin}/images/${DEMO_STORE}/users/alice/${PHOTOS[0]}?rs=fill:240:160`);
    assert.equal(otherThumb?.status(), 403);
    const gallery = await page.goto(fileUrl(STAFF_GALLERY[0]));
    assert.equal(gallery?.status(), 403);
    // Without logging in: 401.
    const anonymous = await (await (await context()).newPage()).goto(fileUrl('users/bob/notes.txt'));
    assert.equal(anonymous?.status(), 401);
  });

  it('a share link opens in a fresh context without login, and stops after revocation', async () => {
    const page = await logIn('alice');
    await Promise.all([page.waitForURL(`${origin}/app/share`), page.locator(`li[data-key="users/alice/${UNICODE_NAME}"] button.share`).click()]);
    const href = await page.getAttribute('#share-link', 'href');
    assert.match(href ?? '', /^\/files\/demo\/users\/alice\/.+\?share=[\w-]+\.[\w-]+\.[\w-]+$/);
    const link = new URL(href as string, origin).toString();

    const stranger = await (await context()).newPage();
    assert.deepEqual(await open(stranger, link), { status: 200, text: unicodeFileText('alice') });
    // The link covers its key only.
    const sibling = await stranger.goto(link.replace(encodeURIComponent(UNICODE_NAME), 'notes.txt'));
    assert.equal(sibling?.status(), 401);

    await Promise.all([page.waitForURL(`${origin}/app/share/revoke`), page.click('#revoke')]);
    assert.ok(await page.isVisible('#revoked'));
    const revoked = await stranger.goto(link);
    assert.equal(revoked?.status(), 410);
    assert.deepEqual(await revoked?.json(), { error: 'share link revoked' });
  });

  it('a share link stops working when it expires (minted with the JS client helper)', async () => {
    const token = await mintToken({ secret: secrets.jwtSecret, sub: 'alice', ttlSeconds: 300 });
    const minted = await createShareLink(origin, token, { store: DEMO_STORE, key: 'users/alice/notes.txt', expiresIn: 3 });
    const stranger = await (await context()).newPage();
    assert.deepEqual(await open(stranger, `${origin}${minted.url ?? ''}`), { status: 200, text: 'Private notes of alice.\n' });
    // Wait past the expiry (second resolution), then the same link is gone.
    const wait = Date.parse(minted.expiresAt) + 1100 - Date.now();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
    const expired = await stranger.goto(`${origin}${minted.url ?? ''}`);
    assert.equal(expired?.status(), 410);
    assert.deepEqual(await expired?.json(), { error: 'share link expired' });
  });
});

describe('client helpers against the running gateway', () => {
  const python = (script: string, ...args: string[]): Promise<string> =>
    execFileAsync('python3', ['-c', `import sys, json; sys.path.insert(0, ${JSON.stringify(path.join(REPO, 'examples/clients/python'))}); import sluice_client as s\n${script}`, ...args]).then((r) => r.stdout.trim());

  it('Python, JS and shell sign the same imgproxy URL, and Sluice serves it', async () => {
    const source = `local:///${STAFF_GALLERY[1]}`;
    const fromPython = await python('print(s.imgproxy_url(sys.argv[1], sys.argv[2], ["rs:fit:120:0"], sys.argv[3], extension="webp"))', secrets.imgproxyKey, secrets.imgproxySalt, source);
    const fromJs = imgproxyUrl({ key: secrets.imgproxyKey, salt: secrets.imgproxySalt, options: ['rs:fit:120:0'], source, extension: 'webp' });
    assert.equal(fromPython, fromJs);
    const pathAfterImg = fromJs.slice('/img'.length);
    const unsigned = pathAfterImg.slice(pathAfterImg.indexOf('/', 1));
    const fromShell = (await execFileAsync(path.join(REPO, 'examples/clients/shell/sign-imgproxy.sh'), [secrets.imgproxyKey, secrets.imgproxySalt, unsigned])).stdout.trim();
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
      await python('print(json.dumps(s.create_share_link(sys.argv[1], sys.argv[2], {"store": "demo", "key": "users/bob/notes.txt", "expiresIn": 600})))', origin, token),
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
      const thumb = /src="(\/images\/demo\/[^"]+)"/.exec(library.text())?.[1];
      assert.ok(thumb !== undefined);
      const image = await request(port, thumb.replaceAll('&amp;', '&'), { headers: { Cookie: cookie, Accept: 'image/webp,*/*' } });
      assert.equal(image.status, 200);
      assert.equal(image.headers['content-type'], 'image/webp');
      assert.equal((await request(port, `/files/demo/users/bob/notes.txt`, { headers: { Cookie: cookie } })).status, 403);
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
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: target, headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body) }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
