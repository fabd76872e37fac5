// Regenerates examples/demo/assets/clip.webm: frames drawn on a canvas and encoded to VP8 by
// Chromium's WebCodecs (no ffmpeg needed), muxed by ./webm.ts. Run: node --import tsx examples/demo/clip/make-clip.ts
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from './chromium.js';
import { muxWebm, type EncodedFrame } from './webm.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const WIDTH = 320;
const HEIGHT = 180;
const FPS = 10;
const SECONDS = 6;

interface RawChunk {
  timeMs: number;
  keyFrame: boolean;
  base64: string;
}

export async function makeClip(): Promise<Buffer> {
  const browser = await launchChromium();
  try {
    const page = await (await browser.newContext()).newPage();
    // WebCodecs needs a secure context: localhost, served by the route below (no server).
    const script = await readFile(path.join(HERE, 'encode-page.js'), 'utf8');
    await page.route('http://localhost/**', (route) =>
      route.fulfill(
        route.request().url().endsWith('.js')
          ? { contentType: 'text/javascript', body: script }
          : { contentType: 'text/html', body: '<!doctype html><script src="/encode-page.js"></script>' },
      ),
    );
    await page.goto('http://localhost/');
    const raw = (await page.evaluate(`encodeClip(${JSON.stringify({ width: WIDTH, height: HEIGHT, fps: FPS, seconds: SECONDS })})`)) as RawChunk[];
    const frames: EncodedFrame[] = raw.map((c) => ({ timeMs: c.timeMs, keyFrame: c.keyFrame, data: Buffer.from(c.base64, 'base64') }));
    return muxWebm({ width: WIDTH, height: HEIGHT, durationMs: SECONDS * 1000 }, frames);
  } finally {
    await browser.close();
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const out = path.resolve(HERE, '..', 'assets', 'clip.webm');
  const clip = await makeClip();
  await writeFile(out, clip);
  process.stdout.write(`${out}: ${clip.length} bytes\n`);
}
