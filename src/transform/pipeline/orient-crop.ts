// After decoding (small pixels from here on): the URL's rotation and flips, then the crop to
// the requested box (fill, fill-down, auto).
import type { Gravity, TransformPlan } from '../plan.js';
import { fromFrame, toFrame, type Frame } from './frame.js';
import { cropRect } from './position.js';

/** Rotates clockwise, then mirrors: the order the URL's options describe. */
export async function rotateAndFlip(frame: Frame, plan: TransformPlan): Promise<Frame> {
  const { horizontal, vertical } = plan.flip;
  if (plan.rotate === 0 && !horizontal && !vertical) return frame;
  // sharp mirrors before rotating; across a quarter turn the mirror axes swap
  const quarter = plan.rotate % 180 === 90;
  const image = fromFrame(frame)
    .rotate(plan.rotate)
    .flip(quarter ? horizontal : vertical)
    .flop(quarter ? vertical : horizontal);
  return toFrame(image);
}

/** Crops to at most `width`×`height` (0 = no limit on that side); `sm` picks the window by attention. */
export async function cropToResult(frame: Frame, width: number, height: number, gravity: Gravity, offsetScale: number): Promise<Frame> {
  const w = width === 0 ? frame.width : Math.min(width, frame.width);
  const h = height === 0 ? frame.height : Math.min(height, frame.height);
  if (w >= frame.width && h >= frame.height) return frame;
  if (gravity.type === 'sm') return toFrame(fromFrame(frame).resize(w, h, { fit: 'cover', position: 'attention', withoutReduction: true }));
  return toFrame(fromFrame(frame).extract(cropRect(frame.width, frame.height, w, h, gravity, offsetScale)));
}
