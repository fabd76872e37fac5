// Growing the canvas (extend, extend_aspect_ratio, padding) and flattening transparency.
// New area is transparent; flatten() later paints it with the background colour when the
// plan sets one or the format has no alpha (JPEG), as imgproxy does.
import type { Gravity, OutputFormat, Rgb, TransformPlan } from '../plan.js';
import { fromFrame, hasAlpha, toFrame, type Frame } from './frame.js';
import type { Geometry } from './geometry.js';
import { CENTER, calcPosition } from './position.js';

const TRANSPARENT = { r: 0, g: 0, b: 0, alpha: 0 };
const WHITE: Rgb = { r: 255, g: 255, b: 255 };

/** Places the image on a `width`×`height` canvas (0 = keep that side) by gravity. */
async function extendTo(frame: Frame, width: number, height: number, gravity: Gravity | null, offsetScale: number): Promise<Frame> {
  const w = Math.max(width, frame.width);
  const h = Math.max(height, frame.height);
  if (w === frame.width && h === frame.height) return frame;
  const { left, top } = calcPosition(w, h, frame.width, frame.height, gravity ?? CENTER, offsetScale, false);
  const image = fromFrame(frame).extend({ left, top, right: w - frame.width - left, bottom: h - frame.height - top, background: TRANSPARENT });
  return toFrame(image);
}

const scaled = (value: number, factor: number): number => Math.round(value * factor);

export async function extendCanvas(frame: Frame, plan: TransformPlan, geometry: Geometry): Promise<Frame> {
  let result = frame;
  if (plan.extend.enabled) {
    result = await extendTo(result, geometry.targetWidth, geometry.targetHeight, plan.extend.gravity, geometry.dprScale);
  } else if (plan.extendAspectRatio.enabled && geometry.extendAspectRatioWidth > 0) {
    result = await extendTo(result, geometry.extendAspectRatioWidth, geometry.extendAspectRatioHeight, plan.extendAspectRatio.gravity, geometry.dprScale);
  }
  const pad = plan.padding;
  if (pad === null) return result;
  const sides = {
    top: scaled(pad.top, geometry.dprScale),
    right: scaled(pad.right, geometry.dprScale),
    bottom: scaled(pad.bottom, geometry.dprScale),
    left: scaled(pad.left, geometry.dprScale),
  };
  if (sides.top + sides.right + sides.bottom + sides.left === 0) return result;
  return toFrame(fromFrame(result).extend({ ...sides, background: TRANSPARENT }));
}

/** Paints transparency with `background` (white for JPEG when unset); opaque images pass. */
export async function flatten(frame: Frame, background: Rgb | null, format: OutputFormat): Promise<Frame> {
  if (!hasAlpha(frame) || (background === null && format !== 'jpeg')) return frame;
  return toFrame(fromFrame(frame).flatten({ background: background ?? WHITE }));
}
