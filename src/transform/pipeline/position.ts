// Pure placement math: where a box goes inside an image for a gravity (imgproxy's
// calcPosition), and how gravities and rectangles change when the frame is rotated or flipped.
import type { Gravity, GravityType } from '../plan.js';

export interface Rect {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

export const CENTER: Gravity = Object.freeze({ type: 'ce', x: 0, y: 0 });

const EAST = new Set<GravityType>(['ea', 'noea', 'soea']);
const WEST = new Set<GravityType>(['we', 'nowe', 'sowe']);
const NORTH = new Set<GravityType>(['no', 'noea', 'nowe']);
const SOUTH = new Set<GravityType>(['so', 'soea', 'sowe']);

/** Offsets of 1 or more are pixels (scaled by dpr); below 1 they are a fraction of the dimension. */
function offset(value: number, dimension: number, scale: number): number {
  return Math.abs(value) >= 1 ? Math.round(value * scale) : Math.round(dimension * value);
}

/**
 * Top-left corner of an `inner` box inside `width`×`height`. Compass offsets point inwards from
 * the named edge; `fp` centres the box on the focus point. With `allowOverflow` the box may hang
 * over the edges (watermarks); otherwise it is kept inside.
 */
export function calcPosition(
  width: number,
  height: number,
  innerWidth: number,
  innerHeight: number,
  gravity: Gravity,
  offsetScale: number,
  allowOverflow: boolean,
): { left: number; top: number } {
  let left: number;
  let top: number;
  if (gravity.type === 'fp') {
    left = Math.round(width * gravity.x) - Math.floor(innerWidth / 2);
    top = Math.round(height * gravity.y) - Math.floor(innerHeight / 2);
  } else {
    const x = offset(gravity.x, width, offsetScale);
    const y = offset(gravity.y, height, offsetScale);
    left = Math.floor((width - innerWidth + 1) / 2) + x;
    top = Math.floor((height - innerHeight + 1) / 2) + y;
    if (NORTH.has(gravity.type)) top = y;
    if (SOUTH.has(gravity.type)) top = height - innerHeight - y;
    if (EAST.has(gravity.type)) left = width - innerWidth - x;
    if (WEST.has(gravity.type)) left = x;
  }
  const [minX, maxX] = allowOverflow ? [-innerWidth + 1, width - 1] : [0, width - innerWidth];
  const [minY, maxY] = allowOverflow ? [-innerHeight + 1, height - 1] : [0, height - innerHeight];
  return { left: Math.max(minX, Math.min(left, maxX)), top: Math.max(minY, Math.min(top, maxY)) };
}

/** A `width`×`height` crop of an image, placed by gravity (not for `sm`, which needs pixels). */
export function cropRect(imageWidth: number, imageHeight: number, width: number, height: number, gravity: Gravity, offsetScale: number): Rect {
  const w = Math.min(width === 0 ? imageWidth : width, imageWidth);
  const h = Math.min(height === 0 ? imageHeight : height, imageHeight);
  const { left, top } = calcPosition(imageWidth, imageHeight, w, h, gravity, offsetScale, false);
  return { left, top, width: w, height: h };
}

type Vector = readonly [number, number];

/** Where a compass gravity anchors, as a point in 0..1, and the signs that turn offsets into a displacement. */
function anchor(type: GravityType): { point: Vector; signs: Vector } {
  const x = EAST.has(type) ? 1 : WEST.has(type) ? 0 : 0.5;
  const y = SOUTH.has(type) ? 1 : NORTH.has(type) ? 0 : 0.5;
  return { point: [x, y], signs: [x === 1 ? -1 : 1, y === 1 ? -1 : 1] };
}

function compassAt([x, y]: Vector): GravityType {
  const vertical = y === 0 ? 'no' : y === 1 ? 'so' : '';
  const horizontal = x === 1 ? 'ea' : x === 0 ? 'we' : '';
  return (vertical + horizontal || 'ce') as GravityType;
}

/**
 * The gravity, written for the final frame (source rotated clockwise by `angle`, then flipped),
 * expressed in the source frame: a point and a displacement transformed back through the
 * flips and the rotation.
 */
export function gravityInSourceFrame(gravity: Gravity, angle: 0 | 90 | 180 | 270, flipHorizontal: boolean, flipVertical: boolean): Gravity {
  if (gravity.type === 'sm' || (angle === 0 && !flipHorizontal && !flipVertical)) return gravity;
  const point = (p: Vector): Vector => unrotatePoint(unflip(p, flipHorizontal, flipVertical, true), angle);
  const vector = (v: Vector): Vector => unrotateVector(unflip(v, flipHorizontal, flipVertical, false), angle);
  if (gravity.type === 'fp') {
    const [x, y] = point([gravity.x, gravity.y]);
    return Object.freeze({ type: 'fp', x, y });
  }
  const { point: at, signs } = anchor(gravity.type);
  const moved = point(at);
  const [dx, dy] = vector([gravity.x * signs[0], gravity.y * signs[1]]);
  const { signs: newSigns } = anchor(compassAt(moved));
  // `+ 0` turns -0 into 0, so equal gravities compare equal
  return Object.freeze({ type: compassAt(moved), x: dx * newSigns[0] + 0, y: dy * newSigns[1] + 0 });
}

function unflip([x, y]: Vector, horizontal: boolean, vertical: boolean, isPoint: boolean): Vector {
  const fx = horizontal ? (isPoint ? 1 - x : -x) : x;
  const fy = vertical ? (isPoint ? 1 - y : -y) : y;
  return [fx, fy];
}

function unrotatePoint([x, y]: Vector, angle: number): Vector {
  if (angle === 90) return [y, 1 - x];
  if (angle === 180) return [1 - x, 1 - y];
  if (angle === 270) return [1 - y, x];
  return [x, y];
}

function unrotateVector([x, y]: Vector, angle: number): Vector {
  if (angle === 90) return [y, -x];
  if (angle === 180) return [-x, -y];
  if (angle === 270) return [-y, x];
  return [x, y];
}

/**
 * A rectangle of an image as stored, in the frame after applying EXIF `orientation` (sharp
 * rotates clockwise, then mirrors horizontally for 2, 4, 5 and 7).
 */
export function orientRect(rect: Rect, storedWidth: number, storedHeight: number, orientation: number): Rect {
  const angle = [0, 0, 0, 180, 180, 90, 90, 270, 270][orientation] ?? 0;
  const mirror = orientation === 2 || orientation === 4 || orientation === 5 || orientation === 7;
  const { left, top, width, height } = rect;
  let rotated: Rect = rect;
  if (angle === 90) rotated = { left: storedHeight - top - height, top: left, width: height, height: width };
  if (angle === 180) rotated = { left: storedWidth - left - width, top: storedHeight - top - height, width, height };
  if (angle === 270) rotated = { left: top, top: storedWidth - left - width, width: height, height: width };
  const frameWidth = angle === 90 || angle === 270 ? storedHeight : storedWidth;
  return mirror ? { ...rotated, left: frameWidth - rotated.left - rotated.width } : rotated;
}
