// Between steps the image travels as raw 8-bit sRGB pixels: each step is one small sharp
// pipeline, so the order of operations is explicit (sharp reorders calls within a pipeline).
import sharp, { type Sharp } from 'sharp';
import { bounded } from './deadline.js';

export interface Frame {
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 2 | 3 | 4;
  /** Animations only: the frames are stacked vertically, each this high (height = pageHeight × frames). */
  readonly pageHeight?: number;
}

export function fromFrame(frame: Frame): Sharp {
  const pages = frame.pageHeight !== undefined && frame.pageHeight < frame.height ? { pageHeight: frame.pageHeight } : {};
  return bounded(sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: frame.channels, ...pages } }));
}

/** Stacks equally sized frames into one animation frame (channels made equal first). */
export async function stackFrames(frames: readonly Frame[]): Promise<Frame> {
  const first = frames[0] as Frame;
  if (frames.length === 1) return first;
  const uniform = frames.every((f) => f.channels === first.channels);
  const channels = uniform ? first.channels : 4;
  const same = uniform ? frames : await Promise.all(frames.map((f) => (f.channels === 4 ? f : toFrame(fromFrame(f).toColourspace('srgb').ensureAlpha()))));
  return { data: Buffer.concat(same.map((f) => f.data)), width: first.width, height: first.height * frames.length, channels, pageHeight: first.height };
}

export async function toFrame(image: Sharp): Promise<Frame> {
  const { data, info } = await image.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

export const hasAlpha = (frame: Frame): boolean => frame.channels === 2 || frame.channels === 4;
