// Filters after resizing: blur, sharpen, pixelate. Strengths scale with the dpr, so a 2x image
// looks like the 1x one.
import type { TransformPlan } from '../plan.js';
import { fromFrame, toFrame, type Frame } from './frame.js';

/** sharp's accepted ranges for the Gaussian sigmas. */
const BLUR_SIGMA = { min: 0.3, max: 1000 };
const SHARPEN_SIGMA = { min: 0.000001, max: 10 };

const clamp = (value: number, range: { min: number; max: number }): number => Math.min(range.max, Math.max(range.min, value));

export async function applyFilters(frame: Frame, plan: TransformPlan, dprScale: number): Promise<Frame> {
  let result = frame;
  if (plan.blur > 0 || plan.sharpen > 0) {
    let image = fromFrame(result);
    if (plan.blur > 0) image = image.blur(clamp(plan.blur * dprScale, BLUR_SIGMA));
    if (plan.sharpen > 0) image = image.sharpen({ sigma: clamp(plan.sharpen * dprScale, SHARPEN_SIGMA) });
    result = await toFrame(image);
  }
  const block = Math.round(plan.pixelate * dprScale);
  return block > 1 ? pixelate(result, block) : result;
}

/** Averages `block`×`block` cells, then blows them up again without interpolation. */
async function pixelate(frame: Frame, block: number): Promise<Frame> {
  const columns = Math.max(1, Math.ceil(frame.width / block));
  const rows = Math.max(1, Math.ceil(frame.height / block));
  const small = await toFrame(fromFrame(frame).resize(columns, rows, { fit: 'fill', kernel: 'linear' }));
  const image = fromFrame(small)
    .resize(columns * block, rows * block, { fit: 'fill', kernel: 'nearest' })
    .extract({ left: 0, top: 0, width: frame.width, height: frame.height });
  return toFrame(image);
}
