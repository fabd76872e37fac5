// Between steps the image travels as raw 8-bit sRGB pixels: each step is one small sharp
// pipeline, so the order of operations is explicit (sharp reorders calls within a pipeline).
import sharp, { type Sharp } from 'sharp';
import { bounded } from './deadline.js';

export interface Frame {
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 2 | 3 | 4;
}

export function fromFrame(frame: Frame): Sharp {
  return bounded(sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: frame.channels } }));
}

export async function toFrame(image: Sharp): Promise<Frame> {
  const { data, info } = await image.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

export const hasAlpha = (frame: Frame): boolean => frame.channels === 2 || frame.channels === 4;
