// Reading the source: the only steps that touch full-resolution pixels. Trim and smart crop
// only measure (they return a rectangle); decodeScaled then reads that rectangle once, already
// resized, so JPEG/WebP shrink-on-load does most of the work for plain thumbnails.
import sharp, { type Sharp, type SharpOptions } from 'sharp';
import type { Trim } from '../plan.js';
import { PublicError } from '../../errors.js';
import { bounded, isVipsTimeout } from './deadline.js';
import { decodeError, decoding } from './errors.js';
import { toFrame, type Frame } from './frame.js';
import type { Size } from './geometry.js';
import { orientRect, type Rect } from './position.js';
import type { SourceInfo } from './probe.js';

export interface SourceReader {
  readonly source: Buffer;
  readonly info: SourceInfo;
  readonly input: SharpOptions;
  /** Apply EXIF orientation (plan.autoRotate). */
  readonly autoRotate: boolean;
}

/** The source's size once EXIF orientation is applied (orientations 5–8 swap the sides). */
export function orientedSize(reader: SourceReader): Size {
  const { width, height, orientation } = reader.info;
  return reader.autoRotate && orientation >= 5 ? { width: height, height: width } : { width, height };
}

function open(reader: SourceReader): Sharp {
  const image = bounded(sharp(reader.source, reader.input));
  return reader.autoRotate ? image.autoOrient() : image;
}

/**
 * The part left after trimming borders of one colour, in the oriented frame. sharp trims in the
 * stored frame, so the box is mapped through the orientation. Null when nothing can be trimmed
 * (a uniform image: libvips refuses to trim everything away).
 */
export async function trimRect(reader: SourceReader, trim: Trim): Promise<Rect | null> {
  const options = { threshold: trim.threshold, ...(trim.color === null ? {} : { background: trim.color }) };
  let stored: Rect;
  try {
    const { info } = await bounded(sharp(reader.source, reader.input)).trim(options).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
    stored = { left: -(info.trimOffsetLeft ?? 0), top: -(info.trimOffsetTop ?? 0), width: info.width, height: info.height };
  } catch (error) {
    if (error instanceof PublicError || isVipsTimeout(error)) throw decodeError(error); // out of time
    return null; // undecodable sources fail in decodeScaled with the proper error
  }
  const rect = orientRect(stored, reader.info.width, reader.info.height, reader.autoRotate ? reader.info.orientation : 1);
  const { width, height } = orientedSize(reader);
  return equalize(rect, width, height, trim.equalHorizontal, trim.equalVertical);
}

/** equal_hor / equal_ver: cut the same amount from both opposite sides (the smaller one). */
function equalize(rect: Rect, width: number, height: number, horizontal: boolean, vertical: boolean): Rect {
  let { left, top, width: w, height: h } = rect;
  if (horizontal) {
    left = Math.min(left, width - left - w);
    w = width - 2 * left;
  }
  if (vertical) {
    top = Math.min(top, height - top - h);
    h = height - 2 * top;
  }
  return { left, top, width: w, height: h };
}

/** A `width`×`height` window of `within` chosen by libvips' attention strategy, at scale 1. */
export async function smartCropRect(reader: SourceReader, within: Rect, width: number, height: number): Promise<Rect> {
  const w = Math.min(width, within.width);
  const h = Math.min(height, within.height);
  // extract() after autoOrient() makes sharp orient first, so `within` is in the oriented frame
  const { info } = await decoding(() =>
    open(reader)
      .extract(within)
      .resize(w, h, { fit: 'cover', position: 'attention', withoutReduction: true })
      .toColourspace('b-w')
      .raw()
      .toBuffer({ resolveWithObject: true }),
  );
  return { left: within.left + Math.abs(info.cropOffsetLeft ?? 0), top: within.top + Math.abs(info.cropOffsetTop ?? 0), width: w, height: h };
}

/**
 * Decodes `region` (oriented frame; null = everything) resized to `size`, as 8-bit sRGB: colour
 * profiles (CMYK included, with a built-in profile when none is embedded) are converted here.
 */
export async function decodeScaled(reader: SourceReader, region: Rect | null, size: Size): Promise<Frame> {
  const current = region ?? orientedSize(reader);
  const resized = current.width !== size.width || current.height !== size.height;
  return decoding(() => {
    let image = open(reader);
    if (region !== null) image = image.extract(region);
    if (resized) image = image.resize(size.width, size.height, { fit: 'fill' });
    return toFrame(image.toColourspace('srgb'));
  });
}
