import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import sharp from 'sharp';
import { DEFAULT_PLAN, type Gravity, type OutputFormat, type TransformPlan } from '../../src/transform/plan.js';
import { DEFAULT_RENDER_LIMITS, renderImage } from '../../src/transform/pipeline/index.js';

const RED = [255, 0, 0];
const BLUE = [0, 0, 255];
const GREY = [128, 128, 128];

interface Fixtures {
  /** 200×100: left half red, right half blue. */
  halves: Buffer;
  /** 200×200 grey. */
  grey: Buffer;
  /** 20×20 opaque red. */
  mark: Buffer;
  /** 300×300 noise JPEG with EXIF text tags. */
  photo: Buffer;
}
const fx = {} as Fixtures;

before(async () => {
  const half = (background: string) =>
    sharp({ create: { width: 100, height: 100, channels: 3, background } })
      .png()
      .toBuffer();
  fx.halves = await sharp({ create: { width: 200, height: 100, channels: 3, background: '#000' } })
    .composite([
      { input: await half('#ff0000'), left: 0, top: 0 },
      { input: await half('#0000ff'), left: 100, top: 0 },
    ])
    .png()
    .toBuffer();
  fx.grey = await sharp({ create: { width: 200, height: 200, channels: 3, background: '#808080' } })
    .png()
    .toBuffer();
  fx.mark = await sharp({ create: { width: 20, height: 20, channels: 4, background: '#ff0000' } })
    .png()
    .toBuffer();
  fx.photo = await sharp({ create: { width: 300, height: 300, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
    .jpeg({ quality: 95 })
    .withExif({ IFD0: { Copyright: 'ACME Photo 2024', Artist: 'Bob Example' } })
    .toBuffer();
});

function render(source: Buffer, plan: Partial<TransformPlan> = {}, format: OutputFormat = 'png', watermark: Buffer | null = null) {
  return renderImage(source, { ...DEFAULT_PLAN, ...plan }, { format, limits: DEFAULT_RENDER_LIMITS, defaultQuality: {}, avifEffort: 0, watermark });
}

async function pixels(image: Buffer) {
  return sharp(image).raw().toBuffer({ resolveWithObject: true });
}

async function pixel(image: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await pixels(image);
  const at = (y * info.width + x) * info.channels;
  return [...data.subarray(at, at + info.channels)];
}

function near(actual: number[], expected: number[], tolerance = 10, message = ''): void {
  assert.ok(
    expected.every((value, i) => Math.abs((actual[i] ?? -999) - value) <= tolerance),
    `${message} expected ≈${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`,
  );
}

const g = (type: Gravity['type'], x = 0, y = 0): Gravity => ({ type, x, y });

describe('pipeline: resize, crop, rotate', () => {
  it('fills by gravity, compass or focus point', async () => {
    const fill = { resizingType: 'fill' as const, width: 100, height: 100 };
    near(await pixel((await render(fx.halves, { ...fill, gravity: g('we') })).data, 50, 50), RED);
    near(await pixel((await render(fx.halves, { ...fill, gravity: g('ea') })).data, 50, 50), BLUE);
    near(await pixel((await render(fx.halves, { ...fill, gravity: g('fp', 0.9, 0.5) })).data, 50, 50), BLUE);
    near(await pixel((await render(fx.halves, { ...fill, gravity: g('fp', 0.1, 0.5) })).data, 50, 50), RED);
  });

  it('picks the interesting part with smart gravity, in fill and in crop', async () => {
    const patch = await sharp({ create: { width: 40, height: 40, channels: 3, background: '#ff00c0' } })
      .png()
      .toBuffer();
    const scene = await sharp({ create: { width: 400, height: 100, channels: 3, background: '#777777' } })
      .composite([{ input: patch, left: 320, top: 30 }])
      .png()
      .toBuffer();
    for (const plan of [
      { resizingType: 'fill' as const, width: 100, height: 100, gravity: g('sm') },
      { crop: { width: 100, height: 100, gravity: g('sm') } },
    ]) {
      const { data, info } = await pixels((await render(scene, plan)).data);
      assert.deepEqual([info.width, info.height], [100, 100]);
      let magenta = 0;
      for (let i = 0; i < data.length; i += info.channels) if ((data[i] ?? 0) > 200 && (data[i + 1] ?? 255) < 60) magenta++;
      assert.ok(magenta > 1000, `the saturated patch is kept (${magenta} pixels)`);
    }
  });

  it('rotates clockwise, then flips', async () => {
    const turned = await render(fx.halves, { rotate: 90 });
    assert.deepEqual([turned.width, turned.height], [100, 200]);
    near(await pixel(turned.data, 50, 20), RED, 10, 'left edge turns to the top:');
    near(await pixel(turned.data, 50, 180), BLUE);
    const flipped = await render(fx.halves, { rotate: 90, flip: { horizontal: false, vertical: true } });
    near(await pixel(flipped.data, 50, 20), BLUE, 10, 'then mirrored top to bottom:');
    near(await pixel((await render(fx.halves, { flip: { horizontal: true, vertical: false } })).data, 20, 50), BLUE);
  });

  it('crops in the final orientation, before resizing', async () => {
    const crop = (gravity: Gravity) => ({ crop: { width: 100, height: 100, gravity } });
    near(await pixel((await render(fx.halves, crop(g('ea')))).data, 50, 50), BLUE);
    const south = await render(fx.halves, { ...crop(g('so')), rotate: 90 });
    assert.deepEqual([south.width, south.height], [100, 100]);
    near(await pixel(south.data, 50, 50), BLUE, 10, 'after a quarter turn the blue half is at the bottom:');
    const half = await render(fx.halves, { crop: { width: 0.5, height: 0, gravity: g('we') }, width: 50 });
    assert.deepEqual([half.width, half.height], [50, 50]);
    near(await pixel(half.data, 25, 25), RED);
  });

  it('multiplies sizes by dpr and zoom', async () => {
    const result = await render(fx.photo, { width: 100, dpr: 2 });
    assert.deepEqual([result.width, result.height], [200, 200]);
    assert.equal((await render(fx.photo, { zoomX: 0.5, zoomY: 0.25 })).height, 75);
  });

  it('trims borders, in the displayed orientation', async () => {
    const box = await sharp({ create: { width: 30, height: 10, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    const framed = sharp({ create: { width: 100, height: 80, channels: 3, background: '#fff' } }).composite([{ input: box, left: 10, top: 20 }]);
    const trim = { threshold: 10, color: null, equalHorizontal: false, equalVertical: false };
    const plain = await render(await framed.clone().png().toBuffer(), { trim });
    assert.deepEqual([plain.width, plain.height], [30, 10]);
    const sideways = await render(await framed.clone().jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer(), { trim });
    assert.deepEqual([sideways.width, sideways.height], [10, 30]);
    const equal = await render(await framed.clone().png().toBuffer(), { trim: { ...trim, equalHorizontal: true } });
    assert.deepEqual([equal.width, equal.height], [80, 10], 'the same margin is cut on both sides');
  });
});

describe('pipeline: canvas and background', () => {
  const extend = { width: 200, height: 200, extend: { enabled: true, gravity: null } };
  let small: Buffer;
  before(async () => {
    small = await sharp({ create: { width: 100, height: 50, channels: 3, background: '#ff0000' } })
      .png()
      .toBuffer();
  });

  it('extends to the requested size: transparent, white for JPEG, or the background', async () => {
    const png = await render(small, extend);
    assert.deepEqual([png.width, png.height], [200, 200]);
    near(await pixel(png.data, 5, 5), [0, 0, 0, 0], 0);
    near(await pixel(png.data, 100, 100), [255, 0, 0, 255], 0);
    near(await pixel((await render(small, extend, 'jpeg')).data, 5, 5), [255, 255, 255], 3);
    near(await pixel((await render(small, { ...extend, background: { r: 0, g: 255, b: 0 } }, 'jpeg')).data, 5, 5), [0, 255, 0], 3);
    const top = await render(small, { ...extend, extend: { enabled: true, gravity: g('no') } });
    near(await pixel(top.data, 100, 10), [255, 0, 0, 255], 0);
  });

  it('extends to the aspect ratio without enlarging', async () => {
    const result = await render(small, { width: 300, height: 300, extendAspectRatio: { enabled: true, gravity: null } });
    assert.deepEqual([result.width, result.height], [100, 100]);
  });

  it('pads in CSS order, scaled by dpr', async () => {
    const result = await render(small, { padding: { top: 10, right: 20, bottom: 10, left: 20 } });
    assert.deepEqual([result.width, result.height], [140, 70]);
    near(await pixel(result.data, 5, 35), [0, 0, 0, 0], 0);
    near(await pixel(result.data, 25, 15), [255, 0, 0, 255], 0);
    const doubled = await render(small, { padding: { top: 10, right: 10, bottom: 10, left: 10 }, dpr: 2, enlarge: true });
    assert.equal(doubled.width, 240);
  });
});

describe('pipeline: watermark', () => {
  const mark = (opacity: number, position: NonNullable<TransformPlan['watermark']>['position'], x = 0, y = 0, scale = 0) => ({
    watermark: { opacity, position, x, y, scale },
  });

  it('places the watermark by position and opacity', async () => {
    const corner = await render(fx.grey, mark(1, 'soea'), 'png', fx.mark);
    near(await pixel(corner.data, 195, 195), RED, 2);
    near(await pixel(corner.data, 5, 5), GREY, 2);
    const faint = await render(fx.grey, mark(0.5, 'nowe', 10, 10), 'png', fx.mark);
    near(await pixel(faint.data, 15, 15), [192, 64, 64], 3);
    near(await pixel(faint.data, 5, 5), GREY, 2, 'offsets move it inwards:');
  });

  it('scales it relative to the result and tiles it with spacing', async () => {
    const scaled = await render(fx.grey, mark(1, 'ce', 0, 0, 0.5), 'png', fx.mark);
    near(await pixel(scaled.data, 60, 60), RED, 2);
    near(await pixel(scaled.data, 40, 40), GREY, 2);
    const tiled = await render(fx.grey, mark(1, 're', 20, 20), 'png', fx.mark);
    for (const [x, y] of [
      [20, 20],
      [60, 60],
      [180, 100],
    ] as const)
      near(await pixel(tiled.data, x, y), RED, 2, `tile at ${x},${y}:`);
    for (const [x, y] of [
      [2, 2],
      [40, 40],
    ] as const)
      near(await pixel(tiled.data, x, y), GREY, 2, `gap at ${x},${y}:`);
  });

  it('is ignored when no watermark image is configured', async () => {
    const result = await render(fx.grey, mark(1, 'soea'), 'png', null);
    near(await pixel(result.data, 195, 195), GREY, 2);
  });
});

describe('pipeline: filters', () => {
  it('blurs, sharpens and pixelates', async () => {
    near(await pixel((await render(fx.halves, {})).data, 98, 50), RED, 2, 'a sharp edge first:');
    const blurred = await pixel((await render(fx.halves, { blur: 5 })).data, 98, 50);
    assert.ok((blurred[0] ?? 0) > 60 && (blurred[2] ?? 0) > 60, `blur mixes the halves: ${JSON.stringify(blurred)}`);
    const plain = (await pixels((await render(fx.photo, {})).data)).data;
    const sharpened = (await pixels((await render(fx.photo, { sharpen: 2 })).data)).data;
    assert.ok(!plain.equals(sharpened), 'sharpen changes pixels');

    const blocks = await pixels((await render(fx.photo, { pixelate: 10 })).data);
    const at = (x: number, y: number) => [...blocks.data.subarray((y * 300 + x) * 3, (y * 300 + x) * 3 + 3)];
    for (const [x, y] of [
      [0, 0],
      [9, 0],
      [0, 9],
      [9, 9],
      [5, 5],
    ])
      assert.deepEqual(at(x as number, y as number), at(0, 0), 'one colour per block');
    assert.notDeepEqual(at(10, 0), at(0, 0));
  });
});

describe('pipeline: metadata and encoding', () => {
  const exifText = async (image: Buffer) => (await sharp(image).metadata()).exif?.toString('latin1') ?? '';

  it('keeps only the copyright by default, text tags with strip_metadata:0, nothing without keep_copyright', async () => {
    const kept = await exifText((await render(fx.photo, {}, 'jpeg')).data);
    assert.ok(kept.includes('ACME Photo 2024') && !kept.includes('Bob Example'), 'copyright only');
    const all = await exifText((await render(fx.photo, { stripMetadata: false }, 'jpeg')).data);
    assert.ok(all.includes('ACME Photo 2024') && all.includes('Bob Example'));
    assert.equal((await sharp((await render(fx.photo, { keepCopyright: false }, 'jpeg')).data).metadata()).exif, undefined);
  });

  it('tags the result with sRGB only when strip_color_profile is off', async () => {
    assert.equal((await sharp((await render(fx.photo, {}, 'jpeg')).data).metadata()).icc, undefined);
    assert.ok((await sharp((await render(fx.photo, { stripColorProfile: false }, 'jpeg')).data).metadata()).icc !== undefined);
  });

  it('uses quality, per-format quality first, and lowers it to fit max_bytes', async () => {
    const size = async (plan: Partial<TransformPlan>, format: OutputFormat = 'jpeg') => (await render(fx.photo, plan, format)).data.length;
    const [low, high] = [await size({ quality: 30 }), await size({ quality: 90 })];
    assert.ok(low < high, `q30 ${low} < q90 ${high}`);
    assert.equal(await size({ quality: 90, formatQuality: { jpeg: 30 } }), low);
    const limit = Math.round(high / 3);
    assert.ok((await size({ quality: 90, maxBytes: limit })) <= limit);
    assert.ok((await size({ maxBytes: limit }, 'webp')) <= limit);
  });
});
