// Gravity arguments: `type[:x[:y]]`. Which types an option accepts differs (imgproxy's
// CropGravityTypes / ExtendGravityTypes / WatermarkGravityTypes); `re` is never a crop gravity.
import type { Extend, Gravity, GravityType, WatermarkPosition } from '../plan.js';
import { bool, expectArgs, float, type Args } from './args.js';
import { invalidOption } from './errors.js';

const COMPASS: readonly GravityType[] = ['no', 'so', 'ea', 'we', 'noea', 'nowe', 'soea', 'sowe', 'ce'];

/** gravity, crop: compass, smart (`sm`) and focus point (`fp`). */
export const CROP_GRAVITIES: ReadonlySet<GravityType> = new Set([...COMPASS, 'sm', 'fp']);
/** extend, extend_aspect_ratio: no smart gravity (there is nothing to detect in empty canvas). */
export const EXTEND_GRAVITIES: ReadonlySet<GravityType> = new Set([...COMPASS, 'fp']);
/** watermark position: compass, or `re` (repeat/tile). */
export const WATERMARK_POSITIONS: ReadonlySet<WatermarkPosition> = new Set([...(COMPASS as WatermarkPosition[]), 're']);

export function gravity(name: string, args: Args, allowed: ReadonlySet<GravityType>): Gravity {
  const type = args[0] as GravityType;
  if (!allowed.has(type)) throw invalidOption(name);
  if (type === 'sm') {
    expectArgs(name, args, 1, 1); // smart gravity takes no offsets
    return Object.freeze({ type, x: 0, y: 0 });
  }
  if (type === 'fp') {
    expectArgs(name, args, 3, 3);
    return Object.freeze({ type, x: float(name, args[1], { min: 0, max: 1 }), y: float(name, args[2], { min: 0, max: 1 }) });
  }
  expectArgs(name, args, 1, 3);
  const x = args[1] === undefined || args[1] === '' ? 0 : float(name, args[1]);
  const y = args[2] === undefined || args[2] === '' ? 0 : float(name, args[2]);
  return Object.freeze({ type, x, y });
}

/** `enabled[:gravity[:x[:y]]]`; without a gravity the previous one stays. */
export function extend(name: string, args: Args, previous: Extend): Extend {
  expectArgs(name, args, 1, 4);
  const enabled = bool(name, args[0]);
  const g = args.length > 1 ? gravity(name, args.slice(1), EXTEND_GRAVITIES) : previous.gravity;
  return Object.freeze({ enabled, gravity: g });
}
