// Filters after resizing: blur, sharpen, pixelate. Strengths scale with the dpr, so a 2x image
// looks like the 1x one. Their cost grows with the strength (a Gaussian's mask with its sigma),
// so each is capped where a stronger value would no longer change the picture noticeably.
import type { TransformPlan } from '../plan.js';
import { fromFrame, toFrame, type Frame } from './frame.js';

/** sharp's accepted ranges for the Gaussian sigmas. */
const BLUR_SIGMA = { min: 0.3, max: 1000 };
const SHARPEN_SIGMA = { min: 0.000001, max: 10 };

const clamp = (value: number, range: { min: number; max: number }): number => Math.min(range.max, Math.max(range.min, value));

/**
 * Beyond half the longest side a blur spreads every pixel over the whole image: the picture is
 * already a smooth average, and only the cost keeps growing.
 */
export function sigmaCap(frame: Pick<Frame, 'width' | 'height'>, absoluteMax: number): number {
  return Math.min(absoluteMax, Math.max(frame.width, frame.height) / 2);
}

export async function applyFilters(frame: Frame, plan: TransformPlan, dprScale: number, maxBlurSigma: number = BLUR_SIGMA.max): Promise<Frame> {
  let result = frame;
  if (plan.blur > 0 || plan.sharpen > 0) {
    let image = fromFrame(result);
    const cap = sigmaCap(frame, Math.min(maxBlurSigma, BLUR_SIGMA.max));
    if (plan.blur > 0) image = image.blur(clamp(Math.min(plan.blur * dprScale, cap), BLUR_SIGMA));
    if (plan.sharpen > 0) image = image.sharpen({ sigma: clamp(Math.min(plan.sharpen * dprScale, cap), SHARPEN_SIGMA) });
    result = await toFrame(image);
  }
  const block = Math.round(plan.pixelate * dprScale);
  return block > 1 ? pixelate(result, block) : result;
}

/**
 * Averages `block`×`block` cells, then blows them up again without interpolation. A block wider
 * (taller) than the image is one cell across (down) whatever its size: clamped per axis, the
 * same picture without a canvas of `block`² pixels.
 */
async function pixelate(frame: Frame, block: number): Promise<Frame> {
  const blockX = Math.min(block, frame.width);
  const blockY = Math.min(block, frame.height);
  const columns = Math.max(1, Math.ceil(frame.width / blockX));
  const rows = Math.max(1, Math.ceil(frame.height / blockY));
  const small = await toFrame(fromFrame(frame).resize(columns, rows, { fit: 'fill', kernel: 'linear' }));
  const image = fromFrame(small)
    .resize(columns * blockX, rows * blockY, { fit: 'fill', kernel: 'nearest' })
    .extract({ left: 0, top: 0, width: frame.width, height: frame.height });
  return toFrame(image);
}
