// Pure size math, following imgproxy's processing/context (calcScale, calcSizes, limitScale):
// from the source size (in the final orientation) and the plan to every size the steps need.
import type { TransformPlan } from '../plan.js';

export interface Size {
  readonly width: number;
  readonly height: number;
}

export interface Geometry {
  /** Crop taken before resizing, in source pixels; 0 = the whole dimension. */
  readonly cropWidth: number;
  readonly cropHeight: number;
  /** Size after crop and resize (before the result crop, extend, padding). */
  readonly scaledWidth: number;
  readonly scaledHeight: number;
  /** The effective device-pixel ratio: scales offsets, padding and filter strengths. */
  readonly dprScale: number;
  /** The requested size × dpr × zoom; 0 = not requested. */
  readonly targetWidth: number;
  readonly targetHeight: number;
  /** Crop to this after resizing (fill); 0 = no limit. */
  readonly resultCropWidth: number;
  readonly resultCropHeight: number;
  /** Canvas for extend_aspect_ratio; 0 = nothing to extend. */
  readonly extendAspectRatioWidth: number;
  readonly extendAspectRatioHeight: number;
}

const scale = (value: number, factor: number): number => (value === 0 ? 0 : Math.round(value * factor));
const minNonZero = (a: number, b: number): number => (a === 0 ? b : b === 0 ? a : Math.min(a, b));

/** A crop argument: ≥ 1 is pixels, below 1 a fraction of the source, 0 the whole dimension. */
export function cropSize(original: number, crop: number): number {
  if (crop === 0) return 0;
  if (crop >= 1) return Math.min(Math.floor(crop), original);
  return Math.max(1, scale(original, crop));
}

interface Scales {
  readonly x: number;
  readonly y: number;
  readonly dpr: number;
}

function calcScale(srcW: number, srcH: number, plan: TransformPlan): Scales {
  const dstW = plan.width === 0 ? srcW : plan.width;
  const dstH = plan.height === 0 ? srcH : plan.height;
  let wshrink = dstW === srcW ? 1 : srcW / dstW;
  let hshrink = dstH === srcH ? 1 : srcH / dstH;

  if (wshrink !== 1 || hshrink !== 1) {
    let type = plan.resizingType;
    if (type === 'auto') type = srcW >= srcH === dstW >= dstH ? 'fill' : 'fit'; // same orientation: fill
    if (plan.width === 0 && type !== 'force') wshrink = hshrink;
    else if (plan.height === 0 && type !== 'force') hshrink = wshrink;
    else if (type === 'fit') wshrink = hshrink = Math.max(wshrink, hshrink);
    else if (type === 'fill' || type === 'fill-down') wshrink = hshrink = Math.min(wshrink, hshrink);
  }
  wshrink /= plan.zoomX;
  hshrink /= plan.zoomY;

  let dpr = plan.dpr;
  if (!plan.enlarge) {
    const minShrink = Math.min(wshrink, hshrink);
    if (minShrink < 1) {
      wshrink /= minShrink;
      hshrink /= minShrink;
      // the target cannot be reached without enlarging: keep the composition (imgproxy does the same)
      if (!plan.extend.enabled) dpr /= minShrink;
    }
    dpr = Math.min(dpr, wshrink, hshrink);
  }
  if (plan.minWidth > 0 && srcW / plan.minWidth < wshrink) {
    hshrink /= wshrink / (srcW / plan.minWidth);
    wshrink = srcW / plan.minWidth;
  }
  if (plan.minHeight > 0 && srcH / plan.minHeight < hshrink) {
    wshrink /= hshrink / (srcH / plan.minHeight);
    hshrink = srcH / plan.minHeight;
  }
  wshrink = Math.min(wshrink / dpr, srcW);
  hshrink = Math.min(hshrink / dpr, srcH);
  return { x: 1 / wshrink, y: 1 / hshrink, dpr };
}

function calcSizes(widthToScale: number, heightToScale: number, scales: Scales, plan: TransformPlan, crop: Size): Geometry {
  const targetWidth = scale(plan.width, scales.dpr * plan.zoomX);
  const targetHeight = scale(plan.height, scales.dpr * plan.zoomY);
  const scaledWidth = Math.max(1, scale(widthToScale, scales.x));
  const scaledHeight = Math.max(1, scale(heightToScale, scales.y));

  let resultCropWidth = targetWidth;
  let resultCropHeight = targetHeight;
  if (plan.resizingType === 'fill-down' && !plan.enlarge && targetWidth > 0 && targetHeight > 0) {
    // fill-down never enlarges: keep the requested aspect ratio inside what we have
    const diffW = targetWidth / scaledWidth;
    const diffH = targetHeight / scaledHeight;
    if (diffW > diffH && diffW > 1) {
      resultCropWidth = scaledWidth;
      resultCropHeight = scale(scaledWidth, targetHeight / targetWidth);
    } else if (diffH > diffW && diffH > 1) {
      resultCropWidth = scale(scaledHeight, targetWidth / targetHeight);
      resultCropHeight = scaledHeight;
    }
  }

  let extendAspectRatioWidth = 0;
  let extendAspectRatioHeight = 0;
  if (plan.extendAspectRatio.enabled && targetWidth > 0 && targetHeight > 0) {
    const outWidth = minNonZero(scaledWidth, resultCropWidth);
    const outHeight = minNonZero(scaledHeight, resultCropHeight);
    const diffW = targetWidth / outWidth;
    const diffH = targetHeight / outHeight;
    if (diffH > diffW) {
      extendAspectRatioWidth = outWidth;
      extendAspectRatioHeight = scale(outWidth, targetHeight / targetWidth);
    } else if (diffW > diffH) {
      extendAspectRatioWidth = scale(outHeight, targetWidth / targetHeight);
      extendAspectRatioHeight = outHeight;
    }
  }
  return {
    cropWidth: crop.width,
    cropHeight: crop.height,
    scaledWidth,
    scaledHeight,
    dprScale: scales.dpr,
    targetWidth,
    targetHeight,
    resultCropWidth,
    resultCropHeight,
    extendAspectRatioWidth,
    extendAspectRatioHeight,
  };
}

/** The finished image's size, padding and extension included. */
export function outputSize(geometry: Geometry, plan: TransformPlan): Size {
  let width = minNonZero(geometry.scaledWidth, geometry.resultCropWidth);
  let height = minNonZero(geometry.scaledHeight, geometry.resultCropHeight);
  if (plan.extend.enabled) {
    width = Math.max(width, geometry.targetWidth);
    height = Math.max(height, geometry.targetHeight);
  } else if (plan.extendAspectRatio.enabled) {
    width = Math.max(width, geometry.extendAspectRatioWidth);
    height = Math.max(height, geometry.extendAspectRatioHeight);
  }
  const pad = plan.padding;
  if (pad !== null) {
    width += scale(pad.left, geometry.dprScale) + scale(pad.right, geometry.dprScale);
    height += scale(pad.top, geometry.dprScale) + scale(pad.bottom, geometry.dprScale);
  }
  return { width, height };
}

/** How much to scale down so the output fits both the side and the area limit (1 = fits). */
function limitFactor(size: Size, maxResultDimension: number, maxResultPixels: number): number {
  const side = Math.max(size.width, size.height);
  const area = size.width * size.height;
  return Math.min(1, maxResultDimension / side, Math.sqrt(maxResultPixels / area));
}

/**
 * `source` is the image as it will finally be oriented (after EXIF and `rotate`). Results above
 * `maxResultDimension` per side or `maxResultPixels` in area (enlarge, extend, padding, dpr and
 * zoom included) are scaled down to fit, as imgproxy's limitScale does for the side.
 */
export function computeGeometry(source: Size, plan: TransformPlan, maxResultDimension: number, maxResultPixels = Number.POSITIVE_INFINITY): Geometry {
  const crop: Size = {
    width: plan.crop === null ? 0 : cropSize(source.width, plan.crop.width),
    height: plan.crop === null ? 0 : cropSize(source.height, plan.crop.height),
  };
  const widthToScale = minNonZero(crop.width, source.width);
  const heightToScale = minNonZero(crop.height, source.height);
  const scales = calcScale(widthToScale, heightToScale, plan);
  const geometry = calcSizes(widthToScale, heightToScale, scales, plan, crop);

  let limited = geometry;
  let current = scales;
  // Rounding (and the one-pixel floor) can leave a result a hair over: shrink again, a few times.
  for (let attempt = 0; attempt < 4; attempt++) {
    const down = limitFactor(outputSize(limited, plan), maxResultDimension, maxResultPixels);
    if (down >= 1) return limited;
    // too large: scale everything down, but never below one pixel
    const factor = attempt === 0 ? down : down * 0.99;
    current = { x: Math.max(current.x * factor, 1 / widthToScale), y: Math.max(current.y * factor, 1 / heightToScale), dpr: current.dpr * factor };
    limited = calcSizes(widthToScale, heightToScale, current, plan, crop);
  }
  return limited;
}
