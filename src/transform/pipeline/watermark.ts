// The configured watermark image over the result: opacity, position with offsets (pixels, or
// fractions below 1), scale relative to the result, or `re` to tile it with offsets as spacing.
import sharp from 'sharp';
import type { Watermark } from '../plan.js';
import { bounded } from './deadline.js';
import { fromFrame, toFrame, type Frame } from './frame.js';
import { calcPosition } from './position.js';

/** The watermark is the operator's own file; this only guards against a misconfigured giant. */
const MAX_WATERMARK_PIXELS = 16_777_216;

interface Layer {
  readonly mark: Frame;
  readonly left: number;
  readonly top: number;
  readonly tile: boolean;
}

export async function applyWatermark(frame: Frame, watermark: Watermark | null, image: Buffer | null, dprScale: number): Promise<Frame> {
  if (watermark === null || image === null) return frame;
  const mark = await prepareMark(frame, watermark, image);
  const layer: Layer | null =
    watermark.position === 're'
      ? { mark: await spaced(mark, watermark, frame, dprScale), left: 0, top: 0, tile: true }
      : placed(frame, mark, watermark, dprScale);
  if (layer === null) return frame;
  const { data, width, height, channels } = layer.mark;
  return toFrame(fromFrame(frame).composite([{ input: data, raw: { width, height, channels }, left: layer.left, top: layer.top, tile: layer.tile }]));
}

/**
 * sRGB with alpha, scaled to fit `scale` × the result (both sides), alpha × opacity. A scale
 * above 1 is read as 1: a mark larger than the result would only be cropped, at any cost.
 */
async function prepareMark(frame: Frame, watermark: Watermark, image: Buffer): Promise<Frame> {
  let loaded = bounded(sharp(image, { limitInputPixels: MAX_WATERMARK_PIXELS }))
    .toColourspace('srgb')
    .ensureAlpha();
  if (watermark.scale > 0) {
    const scale = Math.min(watermark.scale, 1);
    const width = Math.max(1, Math.round(frame.width * scale));
    const height = Math.max(1, Math.round(frame.height * scale));
    loaded = loaded.resize(width, height, { fit: 'inside' });
  }
  const mark = await toFrame(loaded);
  return toFrame(fromFrame(mark).linear([1, 1, 1, watermark.opacity], [0, 0, 0, 0]));
}

/** The visible part of the mark at its gravity position, or null when it falls outside. */
function placed(frame: Frame, mark: Frame, watermark: Watermark, dprScale: number): Layer | null {
  const gravity = { type: watermark.position as Exclude<Watermark['position'], 're'>, x: watermark.x, y: watermark.y };
  const { left, top } = calcPosition(frame.width, frame.height, mark.width, mark.height, gravity, dprScale, true);
  const x0 = Math.max(0, left);
  const y0 = Math.max(0, top);
  const x1 = Math.min(frame.width, left + mark.width);
  const y1 = Math.min(frame.height, top + mark.height);
  if (x1 <= x0 || y1 <= y0) return null;
  return { mark: cropFrame(mark, x0 - left, y0 - top, x1 - x0, y1 - y0), left: x0, top: y0, tile: false };
}

/** For tiling: offsets become transparent spacing around each copy (split over both sides). */
async function spaced(mark: Frame, watermark: Watermark, frame: Frame, dprScale: number): Promise<Frame> {
  // Beyond twice the image a gap already pushes every other copy out of it: capped there, the
  // picture is the same and the padded tile stays small.
  const gap = (value: number, dimension: number): number =>
    Math.min(2 * dimension, Math.max(0, Math.abs(value) >= 1 ? Math.round(value * dprScale) : Math.round(dimension * value)));
  const x = gap(watermark.x, frame.width);
  const y = gap(watermark.y, frame.height);
  const padded =
    x + y === 0
      ? mark
      : await toFrame(
          fromFrame(mark).extend({
            left: Math.floor(x / 2),
            right: x - Math.floor(x / 2),
            top: Math.floor(y / 2),
            bottom: y - Math.floor(y / 2),
            background: { r: 0, g: 0, b: 0, alpha: 0 },
          }),
        );
  // a tile may not exceed the image it covers
  return cropFrame(padded, 0, 0, Math.min(padded.width, frame.width), Math.min(padded.height, frame.height));
}

/** Copies a rectangle out of raw pixels (no sharp round trip for a few rows). */
function cropFrame(frame: Frame, left: number, top: number, width: number, height: number): Frame {
  if (left === 0 && top === 0 && width === frame.width && height === frame.height) return frame;
  const rowBytes = width * frame.channels;
  const data = Buffer.alloc(rowBytes * height);
  for (let row = 0; row < height; row++) {
    const start = ((top + row) * frame.width + left) * frame.channels;
    frame.data.copy(data, row * rowBytes, start, start + rowBytes);
  }
  return { data, width, height, channels: frame.channels };
}
