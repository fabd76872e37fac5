// Source limits, checked from the header before decoding (imgproxy's max_src_resolution and
// max_animation_frames), and the options every decoding sharp instance gets.
import type { SharpOptions } from 'sharp';
import { tooLarge, tooManyFrames } from './errors.js';
import type { ProbeResult, RenderLimits } from './types.js';

/** PublicError 422 when the source has more frames or pixels (w × h × frames) than allowed. */
export function assertWithinLimits(probe: ProbeResult, limits: RenderLimits): void {
  if (probe.width * probe.height * probe.pages > limits.maxInputPixels) throw tooLarge();
  if (probe.pages > limits.maxFrames) throw tooManyFrames();
}

/**
 * libvips enforces the pixel limit again while decoding (defence in depth: the header might
 * lie); only the first frame is read; warnings (e.g. a truncated JPEG tail) are tolerated.
 */
export function decodeOptions(limits: RenderLimits): SharpOptions {
  return { limitInputPixels: limits.maxInputPixels, failOn: 'error', pages: 1 };
}
