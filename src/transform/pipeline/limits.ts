// Source limits, checked from the header before decoding (imgproxy's max_src_resolution and
// max_animation_frames), and the options every decoding sharp instance gets.
import type { SharpOptions } from 'sharp';
import { tooLarge, tooManyFrames } from './errors.js';
import type { ProbeResult, RenderLimits } from './types.js';

/**
 * Frames of `probe` that are decoded: up to `maxFrames` of an animation (imgproxy's
 * MAX_ANIMATION_FRAMES; the rest are dropped, as imgproxy does), 1 for a still or a result that
 * cannot be animated.
 */
export function framesToRender(probe: ProbeResult, limits: Pick<RenderLimits, 'maxFrames'>, animatedOutput = true): number {
  return animatedOutput ? Math.max(1, Math.min(probe.pages, limits.maxFrames)) : 1;
}

/**
 * PublicError 422 when the frames that will be decoded hold more pixels (width × height of one
 * frame, as the header gives them, × frames) than allowed. `frames` defaults to every frame the
 * limit lets through.
 */
export function assertWithinLimits(probe: ProbeResult, limits: RenderLimits, frames: number = framesToRender(probe, limits)): void {
  if (frames > limits.maxFrames) throw tooManyFrames();
  if (probe.width * probe.height * frames > limits.maxInputPixels) throw tooLarge();
}

/**
 * libvips enforces the pixel limit again while decoding (defence in depth: the header might
 * lie); only the first frame is read; warnings (e.g. a truncated JPEG tail) are tolerated.
 */
export function decodeOptions(limits: RenderLimits): SharpOptions {
  return { limitInputPixels: limits.maxInputPixels, failOn: 'error', pages: 1 };
}
