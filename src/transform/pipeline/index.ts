// The image pipeline: a plan and source bytes in, encoded bytes out. Named steps in imgproxy's
// order — limits, trim, crop, resize (one decode), rotate/flip, result crop, filters, extend,
// padding, flatten, watermark, encode — each in its own file.
import sharp from 'sharp';
import type { TransformPlan } from '../plan.js';
import { applyFilters } from './effects.js';
import { extendCanvas, flatten } from './canvas.js';
import { decoding } from './errors.js';
import { decodeScaled, orientedSize, smartCropRect, trimRect, type SourceReader } from './decode.js';
import { FORMAT_MAX_DIMENSION, encode } from './encode.js';
import { PublicError } from '../../errors.js';
import { assertTimeLeft, isVipsTimeout, renderTimedOut, withRenderDeadline } from './deadline.js';
import { computeGeometry, outputSize, type Geometry, type Size } from './geometry.js';
import { assertWithinLimits, decodeOptions, framesToRender } from './limits.js';
import { keptExif } from './metadata.js';
import { cropToResult, rotateAndFlip } from './orient-crop.js';
import { cropRect, gravityInSourceFrame, type Rect } from './position.js';
import { inspectSource, type SourceInfo } from './probe.js';
import { bounded } from './deadline.js';
import { stackFrames, type Frame } from './frame.js';
import { writesAnimation } from '../format.js';
import { DEFAULT_QUALITY, type RenderOptions, type RenderResult } from './types.js';
import { applyWatermark } from './watermark.js';

export { assertWithinLimits, framesToRender } from './limits.js';
export { inspectSource, probeImage, type SourceInfo } from './probe.js';
export { DEFAULT_AVIF_EFFORT, DEFAULT_QUALITY, DEFAULT_RENDER_LIMITS } from './types.js';
export type { ProbeResult, RenderLimits, RenderOptions, RenderResult } from './types.js';

/**
 * Renders `plan` from `source`. Checks the header against `options.limits` first (so calling
 * probeImage/assertWithinLimits beforehand is optional). Throws PublicError 422/415 for sources
 * it cannot or will not decode; anything else thrown is an internal error.
 */
export async function renderImage(source: Buffer, plan: TransformPlan, options: RenderOptions): Promise<RenderResult> {
  const render = (): Promise<RenderResult> => renderSteps(source, plan, options);
  try {
    return await (options.deadlineMs === undefined ? render() : withRenderDeadline(options.deadlineMs, render));
  } catch (error) {
    throw isVipsTimeout(error) ? renderTimedOut(error) : error;
  }
}

async function renderSteps(source: Buffer, plan: TransformPlan, options: RenderOptions): Promise<RenderResult> {
  const info = await inspectSource(source);
  const frames = options.frames ?? framesToRender(info, options.limits, writesAnimation(options.format));
  assertWithinLimits(info, options.limits, frames);
  const readers =
    frames > 1 ? await frameReaders(source, info, frames, options) : [{ source, info, input: decodeOptions(options.limits), autoRotate: plan.autoRotate }];
  const reader = readers[0] as SourceReader;

  const trimmed = plan.trim === null ? null : await trimRect(reader, plan.trim);
  const base: Size = trimmed ?? orientedSize(reader);
  const quarterTurn = plan.rotate % 180 === 90;
  const maxSide = Math.min(options.limits.maxResultDimension, FORMAT_MAX_DIMENSION[options.format]);
  // Every frame of an animation is a result: frames × area stays within the result limits
  const maxPixels = Math.floor(
    Math.min(options.limits.maxResultPixels, options.limits.formatMaxResultPixels[options.format] ?? Number.POSITIVE_INFINITY) / frames,
  );
  const geometry = computeGeometry(quarterTurn ? swap(base) : base, plan, maxSide, maxPixels);
  assertResultWithin(outputSize(geometry, plan), maxSide, maxPixels);

  // Trim and smart crop are measured on the first frame and applied to all of them
  const region = await sourceRegion(reader, plan, geometry, trimmed);
  const scaled = { width: geometry.scaledWidth, height: geometry.scaledHeight };
  const rendered: Frame[] = [];
  for (const frameReader of readers) {
    assertTimeLeft();
    let frame = await decodeScaled(frameReader, region, quarterTurn ? swap(scaled) : scaled);
    frame = await rotateAndFlip(frame, plan);
    frame = await cropToResult(frame, geometry.resultCropWidth, geometry.resultCropHeight, plan.gravity, geometry.dprScale);
    frame = await applyFilters(frame, plan, geometry.dprScale, options.limits.maxBlurSigma);
    frame = await extendCanvas(frame, plan, geometry);
    frame = await flatten(frame, plan.background, options.format);
    frame = await applyWatermark(frame, plan.watermark, options.watermark, geometry.dprScale);
    rendered.push(frame);
  }
  const result = await stackFrames(rendered);
  const encoded = await encode(result, {
    format: options.format,
    quality: resolveQuality(plan, options),
    avifEffort: options.avifEffort,
    maxBytes: plan.maxBytes,
    exif: keptExif(info.exif, plan),
    iccProfile: !plan.stripColorProfile,
    animation: frames > 1 ? { loop: info.loop, delay: info.delay.slice(0, frames) } : null,
  });
  // the height of one frame, like the source's header reports it
  return frames > 1 ? { ...encoded, height: result.pageHeight ?? encoded.height } : encoded;
}

/**
 * An animation's first `frames` frames, decoded once (libvips reads GIF/WebP frames in order)
 * into raw sRGB, each then read like a still source. Orientation is not applied to animations.
 */
async function frameReaders(source: Buffer, info: SourceInfo, frames: number, options: RenderOptions): Promise<SourceReader[]> {
  const { data, info: raw } = await decoding(() =>
    bounded(sharp(source, { limitInputPixels: options.limits.maxInputPixels, failOn: 'error', pages: frames }))
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true }),
  );
  const frameHeight = info.pageHeight;
  const channels = raw.channels as 1 | 2 | 3 | 4;
  const frameBytes = raw.width * frameHeight * channels;
  const count = Math.min(frames, Math.floor(raw.height / frameHeight));
  const frameInfo: SourceInfo = { ...info, height: frameHeight, pages: 1, orientation: 1 };
  return Array.from({ length: count }, (_unused, index) => ({
    source: data.subarray(index * frameBytes, (index + 1) * frameBytes),
    info: frameInfo,
    input: { raw: { width: raw.width, height: frameHeight, channels }, limitInputPixels: options.limits.maxInputPixels },
    autoRotate: false,
  }));
}

const swap = (size: Size): Size => ({ width: size.height, height: size.width });

/** computeGeometry scales results down to the limits; this only catches what it could not fit. */
function assertResultWithin(size: Size, maxSide: number, maxPixels: number): void {
  if (Math.max(size.width, size.height) > maxSide || size.width * size.height > maxPixels) throw new PublicError(422, 'result image too large');
}

/**
 * What to decode, in the oriented source frame: the trimmed box, narrowed by `crop`. The crop's
 * size and gravity are written for the final frame (after `rotate`/`flip`), so they are mapped
 * back first. Null = the whole image.
 */
async function sourceRegion(reader: SourceReader, plan: TransformPlan, geometry: Geometry, trimmed: Rect | null): Promise<Rect | null> {
  if (geometry.cropWidth === 0 && geometry.cropHeight === 0) return trimmed;
  const whole = orientedSize(reader);
  const within: Rect = trimmed ?? { left: 0, top: 0, width: whole.width, height: whole.height };
  const quarterTurn = plan.rotate % 180 === 90;
  const width = (quarterTurn ? geometry.cropHeight : geometry.cropWidth) || within.width;
  const height = (quarterTurn ? geometry.cropWidth : geometry.cropHeight) || within.height;
  const gravity = gravityInSourceFrame(plan.crop?.gravity ?? plan.gravity, plan.rotate, plan.flip.horizontal, plan.flip.vertical);
  if (gravity.type === 'sm') return smartCropRect(reader, within, width, height);
  const rect = cropRect(within.width, within.height, width, height, gravity, 1);
  return { ...rect, left: rect.left + within.left, top: rect.top + within.top };
}

/** format_quality, then quality, then the configured and built-in defaults. */
function resolveQuality(plan: TransformPlan, options: RenderOptions): number {
  const format = options.format;
  return plan.formatQuality[format] ?? (plan.quality > 0 ? plan.quality : (options.defaultQuality[format] ?? DEFAULT_QUALITY[format]));
}
