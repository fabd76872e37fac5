import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { PublicError } from '../../src/errors.js';
import { DEFAULT_PLAN, type OutputFormat, type TransformPlan } from '../../src/transform/plan.js';
import { assertWithinLimits, DEFAULT_RENDER_LIMITS, probeImage, renderImage, type RenderLimits } from '../../src/transform/pipeline/index.js';

const RED = [255, 0, 0];
const GREEN = [0, 255, 0];
const BLUE = [0, 0, 255];
const WHITE = [255, 255, 255];

function render(source: Buffer, plan: Partial<TransformPlan> = {}, format: OutputFormat = 'png', limits: Partial<RenderLimits> = {}) {
  return renderImage(
    source,
    { ...DEFAULT_PLAN, ...plan },
    { format, limits: { ...DEFAULT_RENDER_LIMITS, ...limits }, defaultQuality: {}, avifEffort: 0, watermark: null },
  );
}

async function pixel(image: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(image).raw().toBuffer({ resolveWithObject: true });
  const at = (y * info.width + x) * info.channels;
  return [...data.subarray(at, at + info.channels)];
}

function near(actual: number[], expected: number[], tolerance = 40, message = ''): void {
  assert.ok(
    expected.every((value, i) => Math.abs((actual[i] ?? -999) - value) <= tolerance),
    `${message} expected ≈${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`,
  );
}

async function refusal(work: Promise<unknown>, status: number, reason: string): Promise<void> {
  await assert.rejects(work, (error: unknown) => error instanceof PublicError && error.status === status && error.reason === reason);
}

/** 40×24 as displayed: red, green / blue, white quadrants. */
const DISPLAY = { width: 40, height: 24 };
function displayColor(x: number, y: number): number[] {
  const right = x >= DISPLAY.width / 2;
  const bottom = y >= DISPLAY.height / 2;
  return bottom ? (right ? WHITE : BLUE) : right ? GREEN : RED;
}

/**
 * The stored pixels of a photo whose EXIF orientation is `n`, written from the EXIF definitions
 * (which stored pixel is shown at each display position), independently of sharp's code.
 */
async function orientedFixture(n: number): Promise<Buffer> {
  const { width: W, height: H } = DISPLAY;
  const swapped = n >= 5;
  const [sw, sh] = swapped ? [H, W] : [W, H];
  const stored = Buffer.alloc(sw * sh * 3);
  const source: Record<number, (x: number, y: number) => [number, number]> = {
    1: (x, y) => [x, y],
    2: (x, y) => [W - 1 - x, y],
    3: (x, y) => [W - 1 - x, H - 1 - y],
    4: (x, y) => [x, H - 1 - y],
    5: (x, y) => [y, x],
    6: (x, y) => [y, W - 1 - x],
    7: (x, y) => [H - 1 - y, W - 1 - x],
    8: (x, y) => [H - 1 - y, x],
  };
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const [u, v] = (source[n] as (x: number, y: number) => [number, number])(x, y);
      Buffer.from(displayColor(x, y)).copy(stored, (v * sw + u) * 3);
    }
  }
  return sharp(stored, { raw: { width: sw, height: sh, channels: 3 } })
    .jpeg({ quality: 95 })
    .withMetadata({ orientation: n })
    .toBuffer();
}

/** A PNG whose IHDR claims width × height, with almost no data. */
function pngBomb(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const framed = Buffer.alloc(body.length + 8);
    framed.writeUInt32BE(data.length, 0);
    body.copy(framed, 4);
    framed.writeUInt32BE(crc32(body), body.length + 4);
    return framed;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(64))), chunk('IEND', Buffer.alloc(0))]);
}

/** A real 8×8 JPEG whose SOF0 header is patched to claim width × height. */
async function jpegBomb(width: number, height: number): Promise<Buffer> {
  const jpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#888' } })
    .jpeg()
    .toBuffer();
  const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
  jpeg.writeUInt16BE(height, sof + 5);
  jpeg.writeUInt16BE(width, sof + 7);
  return jpeg;
}

/** An HEVC-coded HEIC header: a sharp AVIF with its codec boxes swapped for HEVC ones. */
async function hevcHeic(): Promise<Buffer> {
  const avif = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#f00' } })
    .avif()
    .toBuffer();
  const hvcC = Buffer.alloc(31);
  hvcC.writeUInt32BE(31, 0);
  hvcC.write('hvcC', 4, 'latin1');
  hvcC.set([1, 0x01, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 0x5a, 0xf0, 0, 0xfc, 0xfd, 0xf8, 0xf8, 0, 0, 0x0f, 0], 8);
  const at = avif.indexOf('av1C') - 4;
  const grow = hvcC.length - avif.readUInt32BE(at);
  const heic = Buffer.concat([avif.subarray(0, at), hvcC, avif.subarray(at + avif.readUInt32BE(at))]);
  for (const box of ['meta', 'iprp', 'ipco']) {
    const size = heic.indexOf(box) - 4;
    heic.writeUInt32BE(heic.readUInt32BE(size) + grow, size);
  }
  const baseOffset = heic.indexOf('iloc') + 16; // version/flags, sizes, item count, item id, data reference
  heic.writeUInt32BE(heic.readUInt32BE(baseOffset) + grow, baseOffset);
  return Buffer.from(heic.toString('latin1').replaceAll('av01', 'hvc1').replaceAll('avif', 'heic'), 'latin1');
}

describe('pipeline: formats', () => {
  const photo = sharp({ create: { width: 640, height: 480, channels: 3, background: '#4080c0', noise: { type: 'gaussian', mean: 128, sigma: 20 } } })
    .jpeg()
    .toBuffer();
  const MAGIC: Record<OutputFormat, (data: Buffer) => boolean> = {
    jpeg: (d) => d.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff])),
    png: (d) => d.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
    webp: (d) => d.toString('latin1', 0, 4) === 'RIFF' && d.toString('latin1', 8, 12) === 'WEBP',
    avif: (d) => d.toString('latin1', 4, 12) === 'ftypavif',
    gif: (d) => d.toString('latin1', 0, 6) === 'GIF89a',
  };

  for (const format of ['jpeg', 'png', 'webp', 'avif', 'gif'] as const) {
    it(`writes ${format} at the requested size`, async () => {
      const result = await render(await photo, { width: 160, height: 160 }, format);
      assert.ok(MAGIC[format](result.data), `${format} magic bytes`);
      assert.deepEqual([result.format, result.width, result.height], [format, 160, 120]);
      const meta = await sharp(result.data).metadata();
      assert.deepEqual([meta.width, meta.height], [160, 120]);
    });
  }

  it('probes format, size and frames from the header', async () => {
    assert.deepEqual(await probeImage(await photo), { format: 'jpeg', width: 640, height: 480, pages: 1 });
    const avif = await sharp({ create: { width: 30, height: 20, channels: 3, background: '#fff' } })
      .avif()
      .toBuffer();
    assert.equal((await probeImage(avif)).format, 'avif');
  });
});

describe('pipeline: orientation and colour', () => {
  for (let n = 1; n <= 8; n++) {
    it(`applies EXIF orientation ${n}`, async () => {
      const result = await render(await orientedFixture(n));
      assert.deepEqual([result.width, result.height], [DISPLAY.width, DISPLAY.height]);
      for (const [x, y] of [
        [10, 6],
        [30, 6],
        [10, 18],
        [30, 18],
      ] as const)
        near(await pixel(result.data, x, y), displayColor(x, y), 40, `orientation ${n} at ${x},${y}:`);
    });
  }

  it('keeps the stored orientation with auto_rotate:0', async () => {
    const result = await render(await orientedFixture(6), { autoRotate: false });
    assert.deepEqual([result.width, result.height], [DISPLAY.height, DISPLAY.width]);
  });

  it('converts CMYK without an embedded profile to sRGB', async () => {
    const cmyk = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#ff0000' } })
      .toColourspace('cmyk')
      .jpeg()
      .toBuffer();
    const meta = await sharp(cmyk).metadata();
    assert.deepEqual([meta.space, meta.icc], ['cmyk', undefined], 'fixture: CMYK, no profile');
    const result = await render(cmyk, {}, 'jpeg');
    assert.equal((await sharp(result.data).metadata()).space, 'srgb');
    near(await pixel(result.data, 8, 8), RED, 60);
  });

  it('reduces 16-bit sources to 8-bit sRGB', async () => {
    const deep = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 200, g: 100, b: 50 } } })
      .toColourspace('rgb16')
      .png()
      .toBuffer();
    assert.equal((await sharp(deep).metadata()).depth, 'ushort', 'fixture: 16-bit');
    const result = await render(deep);
    assert.equal((await sharp(result.data).metadata()).depth, 'uchar');
    near(await pixel(result.data, 4, 4), [200, 100, 50], 2);
  });

  it('keeps alpha where the format has it and flattens it for JPEG', async () => {
    const translucent = await sharp({ create: { width: 8, height: 8, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0.5 } } })
      .png()
      .toBuffer();
    near(await pixel((await render(translucent, {}, 'png')).data, 4, 4), [255, 0, 0, 128], 2);
    near(await pixel((await render(translucent, {}, 'webp')).data, 4, 4), [255, 0, 0, 128], 8);
    near(await pixel((await render(translucent, {}, 'jpeg')).data, 4, 4), [255, 128, 128], 12, 'white under JPEG:');
    near(
      await pixel((await render(translucent, { background: { r: 0, g: 0, b: 255 } }, 'png')).data, 4, 4),
      [128, 0, 128],
      3,
      'background flattens any format:',
    );
  });
});

describe('pipeline: limits and refusals', () => {
  it('refuses a PNG claiming 64250×64250 from its header', async () => {
    const bomb = pngBomb(64250, 64250);
    assert.ok(bomb.length < 200);
    assert.deepEqual(await probeImage(bomb), { format: 'png', width: 64250, height: 64250, pages: 1 });
    await refusal(render(bomb), 422, 'source image too large');
  });

  it('refuses a JPEG whose frame header claims 64250×64250', async () => {
    const bomb = await jpegBomb(64250, 64250);
    assert.deepEqual([(await probeImage(bomb)).width, bomb.length < 1024], [64250, true]);
    await refusal(render(bomb), 422, 'source image too large');
  });

  it('renders the first frame by default; up to maxFrames frames as an animation, each counted in the pixel limit', async () => {
    const frames = await Promise.all(
      ['#f00', '#0f0', '#00f'].map((background) =>
        sharp({ create: { width: 100, height: 100, channels: 3, background } })
          .png()
          .toBuffer(),
      ),
    );
    const gif = await sharp(frames, { join: { animated: true } })
      .gif({ delay: [100, 200, 300] })
      .toBuffer();
    const probe = await probeImage(gif);
    assert.equal(probe.pages, 3);
    // imgproxy's rule: frames beyond max_animation_frames are dropped; decoded frames × area is the resolution
    const tooLarge = (e: unknown): boolean => e instanceof PublicError && e.reason === 'source image too large';
    assert.throws(() => assertWithinLimits(probe, { ...DEFAULT_RENDER_LIMITS, maxFrames: 3, maxInputPixels: 29_999 }), tooLarge);
    assertWithinLimits(probe, { ...DEFAULT_RENDER_LIMITS, maxFrames: 2, maxInputPixels: 29_999 });
    assertWithinLimits(probe, { ...DEFAULT_RENDER_LIMITS, maxInputPixels: 10_000 });
    await refusal(render(gif, {}, 'gif', { maxFrames: 3, maxInputPixels: 29_999 }), 422, 'source image too large');

    const still = await render(gif, {}, 'gif');
    assert.equal((await sharp(still.data).metadata()).pages ?? 1, 1, 'maxFrames 1: the first frame only');
    near(await pixel(still.data, 50, 50), RED, 10);

    for (const format of ['gif', 'webp'] as const) {
      const animated = await render(gif, { width: 50, resizingType: 'fit' }, format, { maxFrames: 3 });
      const meta = await sharp(animated.data, { pages: -1 }).metadata();
      assert.deepEqual([meta.format, meta.pages, meta.width, meta.pageHeight, meta.delay], [format, 3, 50, 50, [100, 200, 300]], format);
      const third = await sharp(animated.data, { page: 2 }).png().toBuffer();
      near(await pixel(third, 25, 25), BLUE, 30, `${format} third frame:`);
    }
    const two = await sharp((await render(gif, {}, 'webp', { maxFrames: 2 })).data).metadata();
    assert.equal(two.pages, 2, 'frames beyond maxFrames are dropped');
    // a format that cannot be animated gets the first frame
    const png = await render(gif, {}, 'png', { maxFrames: 3 });
    assert.deepEqual([png.width, png.height], [100, 100]);
    near(await pixel(png.data, 50, 50), RED, 10);
  });

  it('keeps every frame of an animation within the result area limit', async () => {
    const frames = await Promise.all(
      ['#f00', '#0f0', '#00f', '#fff'].map((background) =>
        sharp({ create: { width: 400, height: 400, channels: 3, background } })
          .png()
          .toBuffer(),
      ),
    );
    const gif = await sharp(frames, { join: { animated: true } })
      .gif()
      .toBuffer();
    const result = await render(gif, {}, 'webp', { maxFrames: 4, maxResultPixels: 40_000 });
    const meta = await sharp(result.data).metadata();
    assert.equal(meta.pages, 4);
    assert.ok(result.width * result.height * 4 <= 40_000, `${result.width}x${result.height} × 4 frames`);
  });

  it('refuses bytes that are not an image, and SVG', async () => {
    await refusal(render(Buffer.from('%PDF-1.4 not an image at all')), 422, 'unsupported image format');
    await refusal(render(Buffer.alloc(0)), 422, 'unsupported image format');
    const truncated = (
      await sharp({ create: { width: 64, height: 64, channels: 3, background: '#123' } })
        .png()
        .toBuffer()
    ).subarray(0, 40);
    await refusal(render(truncated), 422, 'unsupported image format');
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>');
    await refusal(probeImage(svg), 422, 'unsupported image format (SVG)');
    await refusal(render(svg), 422, 'unsupported image format (SVG)');
  });

  it('answers 415 for HEVC-coded HEIC (no HEVC decoder in this libvips)', async () => {
    const heic = await hevcHeic();
    await refusal(probeImage(heic), 415, 'unsupported image format (HEVC)');
    await refusal(render(heic), 415, 'unsupported image format (HEVC)');
  });

  it('scales results down to the maximum result dimension', async () => {
    const wide = await sharp({ create: { width: 3000, height: 100, channels: 3, background: '#fff' } })
      .png()
      .toBuffer();
    const result = await render(wide, {}, 'png', { maxResultDimension: 1000 });
    assert.deepEqual([result.width, result.height], [1000, 33]);
  });
});
