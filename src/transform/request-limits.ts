// What a URL may ask for, judged from the plan alone (before any source is read): a request
// that explicitly names a result or a blur beyond the limits is refused with 400 and a reason.
// Results that only grow large because of the source (one side given, no resize) are scaled
// down to the limits by the pipeline instead (computeGeometry).
import { PublicError } from '../errors.js';
import type { RenderLimits } from './pipeline/types.js';
import type { TransformPlan } from './plan.js';

export type RequestLimits = Pick<RenderLimits, 'maxResultDimension' | 'maxResultPixels' | 'maxBlurSigma'>;

const overLimit = (what: string, limit: number, unit: string): PublicError => new PublicError(400, `${what} above the limit of ${limit} ${unit}`);

/** Throws PublicError 400 naming the first limit the plan exceeds. */
export function assertRequestWithinLimits(plan: TransformPlan, limits: RequestLimits): void {
  if (plan.blur > limits.maxBlurSigma) throw overLimit('blur', limits.maxBlurSigma, 'sigma');
  const { maxResultDimension: maxSide, maxResultPixels: maxPixels } = limits;
  // dpr and zoom multiply the requested size and (dpr) the padding, as in the pipeline
  const width = plan.width * plan.dpr * plan.zoomX;
  const height = plan.height * plan.dpr * plan.zoomY;
  const padX = plan.padding === null ? 0 : (plan.padding.left + plan.padding.right) * plan.dpr;
  const padY = plan.padding === null ? 0 : (plan.padding.top + plan.padding.bottom) * plan.dpr;
  if (width + padX > maxSide || plan.minWidth * plan.dpr > maxSide) throw overLimit('requested width', maxSide, 'pixels');
  if (height + padY > maxSide || plan.minHeight * plan.dpr > maxSide) throw overLimit('requested height', maxSide, 'pixels');
  if (width > 0 && height > 0 && (width + padX) * (height + padY) > maxPixels) throw overLimit('requested result', maxPixels, 'pixels');
}
