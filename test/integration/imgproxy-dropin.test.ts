// imgproxy drop-in, end to end: a Roundup-like tree of extensionless uploads, Sluice configured
// only from an imgproxy env file (plus the Sluice-only worker secret and ports), real nginx, the
// app in-process and `sluice worker` as its own process. URLs are built exactly as Roundup's
// `imgproxy_url()` helper builds them (its algorithm re-implemented here).
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { parseEnvFile } from '../../src/config/imgproxy-env.js';
import { loadConfig } from '../../src/config/load.js';
import type { SluiceConfig } from '../../src/config/schema.js';
import { startNginx, type NginxProcess } from '../../src/nginx/process.js';
import { writeNginxConfig } from '../../src/cli/nginx-files.js';
import { createLogger } from '../../src/observability/logger.js';
import { startSluice, type RunningSluice } from '../../src/server.js';
import { request, type RawResponse } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker.js';

const KEY = '736563726574';
const SALT = '68656C6C6F';
const PREFIX = '/trackers/tracker1/imgproxy';
const IMAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox";
const CHROME = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';
const ANY = '*/*';

let dir: string;
let config: SluiceConfig;
let app: RunningSluice;
let nginx: NginxProcess;
let worker: WorkerProcess;
let port: number;
const warnings: string[] = [];

/** Python's urllib.parse.quote(text) (safe="/"): UTF-8, every byte but A-Z a-z 0-9 _ . - ~ / escaped. */
function pythonQuote(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((byte) => (/[A-Za-z0-9_.\-~/]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`))
    .join('');
}

/**
 * Roundup's imgproxy_url(), as on its wiki: expiry, optional watermark, the file's name without
 * its extension (quoted), the template's options, then the node's file under the local root.
 */
function imgproxyUrl(nodeid: number, name: string, options: readonly string[] = ['rs:fill:400:300:0:0'], watermark = false, ttl = 3600): string {
  const stem = name.replace(/\.[^.]*$/, '');
  const parts = [`expires:${Math.floor(Date.now() / 1000) + ttl}`, ...(watermark ? ['watermark:0.3:sowe'] : []), `filename:${pythonQuote(stem)}`, ...options];
  const signedPath = `/${parts.join('/')}/plain/local:///${Math.floor(nodeid / 1000)}/file${nodeid}`;
  const mac = createHmac('sha256', Buffer.from(KEY, 'hex'));
  mac.update(Buffer.concat([Buffer.from(SALT, 'hex'), Buffer.from(signedPath)]));
  const signature = mac.digest('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return `${PREFIX}/${signature}${signedPath}`;
}

const get = (url: string, accept = ANY): Promise<RawResponse> => request(port, url, { headers: { Accept: accept } });

function magic(body: Buffer): string {
  if (body.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff]))) return 'jpeg';
  if (body.subarray(0, 8).equals(Buffer.from('89504e470d0a1a0a', 'hex'))) return 'png';
  if (body.toString('latin1', 0, 4) === 'GIF8') return 'gif';
  if (body.toString('latin1', 0, 4) === 'RIFF' && body.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  if (body.toString('latin1', 4, 12) === 'ftypavif') return 'avif';
  return 'unknown';
}

const NAMES: Record<number, string> = {
  17: 'Übersicht Foto.jpg',
  18: 'logo (transparent).png',
  19: 'icon.gif',
  20: 'spinner.gif',
  21: 'photo.webp',
  22: 'notes.txt',
  23: 'drawing.svg',
  1017: 'later.jpg',
};

let jpegSource: Buffer;
let textSource: Buffer;
let svgSource: Buffer;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-imgproxy-'));
  await chmod(dir, 0o755);
  const root = path.join(dir, 'tracker', 'db', 'files', 'file');
  const put = async (nodeid: number, content: Buffer): Promise<void> => {
    const file = path.join(root, String(Math.floor(nodeid / 1000)), `file${nodeid}`);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
  };
  const gradient = Buffer.from(
    '<svg xmlns="http://www.w3.org/2000/svg" width="800" height="600"><defs><linearGradient id="g"><stop offset="0" stop-color="#234"/><stop offset="1" stop-color="#8c6"/></linearGradient></defs><rect width="100%" height="100%" fill="url(#g)"/></svg>',
  );
  jpegSource = await sharp(gradient).jpeg({ quality: 90 }).toBuffer();
  await put(17, jpegSource);
  await put(1017, jpegSource);
  // half transparent, half opaque red
  const alpha = await sharp({ create: { width: 200, height: 100, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
    .composite([
      {
        input: await sharp({ create: { width: 100, height: 100, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 1 } } })
          .png()
          .toBuffer(),
        left: 100,
        top: 0,
      },
    ])
    .png()
    .toBuffer();
  await put(18, alpha);
  await put(
    19,
    await sharp({ create: { width: 64, height: 64, channels: 3, background: '#36c' } })
      .gif()
      .toBuffer(),
  );
  const frames = await Promise.all(
    ['#f00', '#0f0', '#00f'].map((background) =>
      sharp({ create: { width: 120, height: 90, channels: 3, background } })
        .png()
        .toBuffer(),
    ),
  );
  await put(
    20,
    await sharp(frames, { join: { animated: true } })
      .gif({ delay: [100, 100, 100] })
      .toBuffer(),
  );
  await put(21, await sharp(gradient).webp().toBuffer());
  textSource = Buffer.from('meeting notes, not an image\n');
  await put(22, textSource);
  svgSource = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(document.cookie)</script></svg>');
  await put(23, svgSource);
  const mark = await sharp({ create: { width: 200, height: 200, channels: 4, background: { r: 255, g: 0, b: 255, alpha: 1 } } })
    .png()
    .toBuffer();

  // The wiki's env file, unchanged but for the tree's location, plus animation frames.
  const envFile = [
    `IMGPROXY_KEY=${KEY}`,
    `IMGPROXY_SALT=${SALT}`,
    `IMGPROXY_PATH_PREFIX=${PREFIX}`,
    'IMGPROXY_ALLOWED_SOURCES=local://',
    'IMGPROXY_ENABLE_WEBP_DETECTION=true',
    'IMGPROXY_ENFORCE_WEBP=true',
    'IMGPROXY_ENABLE_AVIF_DETECTION=true',
    'IMGPROXY_ENFORCE_AVIF=true',
    'IMGPROXY_TTL=1',
    `IMGPROXY_LOCAL_FILESYSTEM_ROOT=${root}`,
    'IMGPROXY_PRESETS=mark=watermark:0.3:sowe',
    `IMGPROXY_WATERMARK_DATA=${mark.toString('base64')}`,
    'IMGPROXY_MAX_ANIMATION_FRAMES=10',
    '',
  ].join('\n');
  const imgproxyEnv = parseEnvFile(envFile);
  port = await freePort();
  const workerPort = await freePort();
  // What Sluice needs and imgproxy has no equivalent for: the app ↔ worker secret, and ports.
  const sluiceEnv = {
    SLUICE_WORKER__SECRET: 'imgproxy-dropin-worker-secret-0123456789',
    SLUICE_HOST: '127.0.0.1',
    SLUICE_PORT: String(port),
    SLUICE_APP_PORT: '0',
    SLUICE_WORKER__PORT: String(workerPort),
  };
  config = loadConfig({ env: { ...imgproxyEnv, ...sluiceEnv }, warn: (message) => warnings.push(message) });
  worker = await startWorkerProcess({ worker: { port: workerPort } }, dir, { env: { ...imgproxyEnv, ...sluiceEnv } });
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  app = await startSluice(config, { logger: createLogger('info', sink) });
  const files = await writeNginxConfig(config, {
    outDir: path.join(dir, 'nginx'),
    appAddress: app.address,
    full: { runtimeDir: path.join(dir, 'nginx', 'run'), user: process.getuid?.() === 0 ? 'root' : undefined },
  });
  nginx = await startNginx(files.fullConfigPath as string, files.runtimeDir as string, { host: config.host, port });
});

after(async () => {
  await nginx?.stop();
  await app?.close();
  await worker?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('an imgproxy env file read by Sluice', () => {
  it('maps every variable of the wiki setup, without warnings', () => {
    assert.deepEqual(warnings, []);
    assert.equal(config.transform.enabled, true);
    assert.deepEqual([config.transform.keys, config.transform.salts], [[KEY], [SALT.toLowerCase()]]);
    assert.equal(config.transform.imgproxyPrefix, PREFIX);
    assert.equal(config.transform.ttl, 1);
    assert.equal(config.stores[config.transform.localStore as string]?.type, 'fs');
    assert.deepEqual([config.worker.enforceAvif, config.worker.enforceWebp, config.worker.limits.maxFrames], [true, true, 10]);
  });
});

describe("Roundup's imgproxy_url() against extensionless uploads", () => {
  it('keeps a JPEG a JPEG without negotiation, named from filename: (percent-decoded), private and short-lived', async () => {
    const res = await get(imgproxyUrl(17, NAMES[17] as string));
    assert.equal(res.status, 200, res.text());
    assert.equal(magic(res.body), 'jpeg');
    const meta = await sharp(res.body).metadata();
    assert.deepEqual([meta.width, meta.height], [400, 300]);
    assert.equal(res.headers['content-type'], 'image/jpeg');
    assert.equal(res.headers['content-disposition'], `inline; filename="Ubersicht Foto.jpg"; filename*=UTF-8''%C3%9Cbersicht%20Foto.jpg`);
    assert.equal(res.headers['cache-control'], 'private, max-age=1');
    assert.equal(res.headers.vary, 'Accept');
    assert.equal(res.headers['content-security-policy'], IMAGE_CSP);
  });

  it('keeps PNG (with its transparency), GIF and WebP sources in their format, found from the bytes', async () => {
    const png = await get(imgproxyUrl(18, NAMES[18] as string, ['rs:fit:100:50']));
    assert.equal(png.status, 200, png.text());
    assert.equal(magic(png.body), 'png');
    assert.equal(png.headers['content-disposition'], `inline; filename="logo (transparent).png"`);
    const { data, info } = await sharp(png.body).raw().toBuffer({ resolveWithObject: true });
    assert.equal(info.channels, 4, 'alpha kept');
    assert.equal(data[(25 * info.width + 10) * 4 + 3], 0, 'the transparent half stays transparent (not flattened to white)');
    assert.equal(data[(25 * info.width + 90) * 4 + 3], 255);
    const gif = await get(imgproxyUrl(19, NAMES[19] as string, ['rs:fit:32:32']));
    assert.equal(magic(gif.body), 'gif');
    assert.equal(gif.headers['content-type'], 'image/gif');
    const webp = await get(imgproxyUrl(21, NAMES[21] as string));
    assert.equal(magic(webp.body), 'webp');
  });

  it('negotiates AVIF/WebP from Accept, and one URL serves each Accept class its own cached result', async () => {
    const url = imgproxyUrl(1017, NAMES[1017] as string, ['rs:fit:200:150', 'cb:accept-class']);
    const before = await worker.renderRequests();
    const sequence: [string, string][] = [
      [ANY, 'jpeg'],
      [CHROME, 'avif'],
      ['image/webp,*/*', 'webp'],
      [ANY, 'jpeg'],
      [CHROME, 'avif'],
    ];
    for (const [accept, format] of sequence) {
      const res = await get(url, accept);
      assert.equal(res.status, 200, res.text());
      assert.equal(magic(res.body), format, accept);
      assert.equal(res.headers['content-type'], `image/${format}`);
      assert.equal(res.headers['content-disposition'], `inline; filename="later.${format === 'jpeg' ? 'jpg' : format}"`);
    }
    assert.equal(await worker.renderRequests(), before + 3, 'repeats are nginx cache hits');
  });

  it('enforces AVIF/WebP over the format a URL names (ENFORCE_AVIF/WEBP)', async () => {
    const url = imgproxyUrl(17, NAMES[17] as string, ['rs:fit:200:150', 'f:png']);
    assert.equal(magic((await get(url, CHROME)).body), 'avif');
    assert.equal(magic((await get(url, 'image/webp')).body), 'webp');
    assert.equal(magic((await get(url, ANY)).body), 'png');
  });

  it('processes an animated GIF as an animation (GIF, or WebP when accepted; never AVIF)', async () => {
    const gif = await get(imgproxyUrl(20, NAMES[20] as string, ['rs:fit:60:60']));
    assert.equal(gif.status, 200, gif.text());
    assert.equal(magic(gif.body), 'gif');
    const meta = await sharp(gif.body).metadata();
    assert.deepEqual([meta.pages, meta.width, meta.height], [3, 60, 45]);
    const webp = await get(imgproxyUrl(20, NAMES[20] as string, ['rs:fit:60:60']), CHROME);
    assert.equal(magic(webp.body), 'webp');
    assert.equal((await sharp(webp.body).metadata()).pages, 3);
  });

  it('applies the watermark preset from IMGPROXY_WATERMARK_DATA (helper flag and template preset)', async () => {
    const corner = async (body: Buffer): Promise<number[]> => [...(await sharp(body).extract({ left: 2, top: 297, width: 1, height: 1 }).raw().toBuffer())];
    const plain = await corner((await get(imgproxyUrl(17, NAMES[17] as string, ['rs:fill:400:300:0:0', 'f:png']))).body);
    for (const url of [
      imgproxyUrl(17, NAMES[17] as string, ['rs:fill:400:300:0:0', 'f:png'], true),
      imgproxyUrl(17, NAMES[17] as string, ['rs:fit:400:300', 'preset:mark', 'f:png']),
    ]) {
      const res = await get(url);
      assert.equal(res.status, 200, res.text());
      const [r, g, b] = await corner(res.body);
      // 30 % magenta over the picture: red and blue rise, green falls
      assert.ok(
        (r as number) > (plain[0] as number) + 30 && (g as number) < (plain[1] as number) && (b as number) > (plain[2] as number) + 20,
        `marked ${r},${g},${b} vs ${plain.join(',')}`,
      );
    }
  });

  it('refuses files that are not images (text, SVG) with 422', async () => {
    for (const nodeid of [22, 23]) {
      const res = await get(imgproxyUrl(nodeid, NAMES[nodeid] as string));
      assert.equal(res.status, 422, `${nodeid}: ${res.text()}`);
      assert.equal(res.headers['content-disposition'], undefined);
      assert.equal(res.headers['cache-control'], 'no-store');
    }
  });

  it('passes any file through untouched with raw: images inline, everything else a sandboxed download', async () => {
    const jpeg = await get(imgproxyUrl(17, NAMES[17] as string, ['raw:1']), CHROME);
    assert.equal(jpeg.status, 200, jpeg.text());
    assert.deepEqual(jpeg.body, jpegSource, 'the bytes as stored, no negotiation');
    assert.equal(jpeg.headers['content-type'], 'image/jpeg');
    assert.equal(jpeg.headers['content-disposition'], `inline; filename="Ubersicht Foto.jpg"; filename*=UTF-8''%C3%9Cbersicht%20Foto.jpg`);
    assert.equal(jpeg.headers.vary, undefined);

    const svg = await get(imgproxyUrl(23, NAMES[23] as string, ['raw:1']));
    assert.equal(svg.status, 200, svg.text());
    assert.deepEqual(svg.body, svgSource);
    assert.equal(svg.headers['content-type'], 'image/svg+xml');
    assert.equal(svg.headers['content-disposition'], 'attachment; filename="drawing.svg"');
    assert.equal(svg.headers['content-security-policy'], IMAGE_CSP);
    assert.equal(svg.headers['x-content-type-options'], 'nosniff');

    const text = await get(imgproxyUrl(22, NAMES[22] as string, ['raw:1']));
    assert.equal(text.status, 200, text.text());
    assert.deepEqual(text.body, textSource);
    assert.equal(text.headers['content-type'], 'application/octet-stream');
    assert.equal(text.headers['content-disposition'], 'attachment; filename="notes"');
  });

  it('still checks the signature for raw, and never serves a file the signature does not cover', async () => {
    const good = imgproxyUrl(22, NAMES[22] as string, ['raw:1']);
    for (const url of [good.replace('/file22', '/file17'), good.replace('raw:1', 'raw:0'), good.replace(/(imgproxy\/)./, '$1A')]) {
      const res = await get(url);
      assert.equal(res.status, 403, url);
      assert.deepEqual(res.json(), { error: 'invalid signature' });
    }
  });

  it('answers expired helper URLs with 404, like imgproxy', async () => {
    const res = await get(imgproxyUrl(17, NAMES[17] as string, ['rs:fit:10:10'], false, -60));
    assert.equal(res.status, 404);
    assert.deepEqual(res.json(), { error: 'Expired URL' });
  });
});
