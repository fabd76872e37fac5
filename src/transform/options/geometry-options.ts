// Options that decide the result's geometry: size, resizing, gravity, crop, trim, padding,
// rotation. Semantics follow imgproxy's options/parser/apply.go; arguments left empty keep the
// previous value, so `rs:fill::300` changes only the type and the height.
import type { Padding, ResizingType, TransformPlan } from '../plan.js';
import { bool, expectArgs, float, hexColor, int, type Args } from './args.js';
import { invalidOption } from './errors.js';
import { CROP_GRAVITIES, extend, gravity } from './gravity.js';
import type { OptionSpec } from './spec.js';

const RESIZING_TYPES: ReadonlySet<string> = new Set<ResizingType>(['fit', 'fill', 'fill-down', 'force', 'auto']);

const given = (arg: string | undefined): arg is string => arg !== undefined && arg !== '';

function resizingType(plan: TransformPlan, args: Args): TransformPlan {
  expectArgs('resizing_type', args, 1, 1);
  const type = args[0] as string;
  if (!RESIZING_TYPES.has(type)) throw invalidOption('resizing_type');
  return { ...plan, resizingType: type as ResizingType };
}

/** `width:height:enlarge:extend[:gravity…]` — shared by `size` and `resize`. */
function size(plan: TransformPlan, args: Args, name = 'size'): TransformPlan {
  expectArgs(name, args, 1, 7);
  let next = plan;
  if (given(args[0])) next = { ...next, width: int(name, args[0], { min: 0 }) };
  if (given(args[1])) next = { ...next, height: int(name, args[1], { min: 0 }) };
  if (given(args[2])) next = { ...next, enlarge: bool(name, args[2]) };
  if (given(args[3])) next = { ...next, extend: extend(name, args.slice(3), next.extend) };
  return next;
}

function resize(plan: TransformPlan, args: Args): TransformPlan {
  expectArgs('resize', args, 1, 8);
  const typed = given(args[0]) ? resizingType(plan, [args[0]]) : plan;
  return args.length > 1 ? size(typed, args.slice(1), 'resize') : typed;
}

function zoom(plan: TransformPlan, args: Args): TransformPlan {
  expectArgs('zoom', args, 1, 2);
  const x = float('zoom', args[0], { min: 0, exclusiveMin: true });
  const y = args.length > 1 ? float('zoom', args[1], { min: 0, exclusiveMin: true }) : x;
  return { ...plan, zoomX: x, zoomY: y };
}

/** `width[:height[:gravity…]]`: pixels (≥ 1) or a fraction of the source (< 1); 0 = whole. */
function crop(plan: TransformPlan, args: Args): TransformPlan {
  expectArgs('crop', args, 1, 5);
  const width = float('crop', args[0], { min: 0 });
  const height = args.length > 1 ? float('crop', args[1], { min: 0 }) : 0;
  const g = args.length > 2 ? gravity('crop', args.slice(2), CROP_GRAVITIES) : null;
  return { ...plan, crop: width === 0 && height === 0 ? null : Object.freeze({ width, height, gravity: g }) };
}

/** `threshold[:colour[:equal_hor[:equal_ver]]]`; an empty threshold turns trimming off. */
function trim(plan: TransformPlan, args: Args): TransformPlan {
  expectArgs('trim', args, 1, 4);
  if (!given(args[0])) return { ...plan, trim: null };
  return {
    ...plan,
    trim: Object.freeze({
      threshold: float('trim', args[0], { min: 0 }),
      color: given(args[1]) ? hexColor('trim', args[1]) : null,
      equalHorizontal: given(args[2]) ? bool('trim', args[2]) : false,
      equalVertical: given(args[3]) ? bool('trim', args[3]) : false,
    }),
  };
}

/** CSS order: top, right, bottom, left; missing sides copy top → right → bottom, right → left. */
function padding(plan: TransformPlan, args: Args): TransformPlan {
  expectArgs('padding', args, 1, 4);
  const side = (arg: string | undefined, fallback: number): number => (given(arg) ? int('padding', arg, { min: 0 }) : fallback);
  const top = side(args[0], 0);
  const right = side(args[1], top);
  const bottom = side(args[2], top);
  const left = side(args[3], right);
  const value: Padding = Object.freeze({ top, right, bottom, left });
  return { ...plan, padding: top + right + bottom + left === 0 ? null : value };
}

function rotate(plan: TransformPlan, args: Args): TransformPlan {
  expectArgs('rotate', args, 1, 1);
  const angle = int('rotate', args[0]);
  if (angle % 90 !== 0) throw invalidOption('rotate');
  return { ...plan, rotate: (((angle % 360) + 360) % 360) as TransformPlan['rotate'] };
}

function flip(plan: TransformPlan, args: Args): TransformPlan {
  expectArgs('flip', args, 1, 2);
  const horizontal = given(args[0]) ? bool('flip', args[0]) : plan.flip.horizontal;
  const vertical = given(args[1]) ? bool('flip', args[1]) : plan.flip.vertical;
  return { ...plan, flip: Object.freeze({ horizontal, vertical }) };
}

const one = (name: string, args: Args): string => {
  expectArgs(name, args, 1, 1);
  return args[0] as string;
};

export const GEOMETRY_OPTIONS: readonly OptionSpec[] = [
  { name: 'resize', aliases: ['rs'], apply: resize },
  { name: 'size', aliases: ['s'], apply: (plan, args) => size(plan, args) },
  { name: 'resizing_type', aliases: ['rt'], apply: resizingType },
  { name: 'width', aliases: ['w'], apply: (plan, args) => ({ ...plan, width: int('width', one('width', args), { min: 0 }) }) },
  { name: 'height', aliases: ['h'], apply: (plan, args) => ({ ...plan, height: int('height', one('height', args), { min: 0 }) }) },
  { name: 'min-width', aliases: ['mw'], apply: (plan, args) => ({ ...plan, minWidth: int('min-width', one('min-width', args), { min: 0 }) }) },
  { name: 'min-height', aliases: ['mh'], apply: (plan, args) => ({ ...plan, minHeight: int('min-height', one('min-height', args), { min: 0 }) }) },
  { name: 'zoom', aliases: ['z'], apply: zoom },
  { name: 'dpr', aliases: [], apply: (plan, args) => ({ ...plan, dpr: float('dpr', one('dpr', args), { min: 0, exclusiveMin: true }) }) },
  { name: 'enlarge', aliases: ['el'], apply: (plan, args) => ({ ...plan, enlarge: bool('enlarge', one('enlarge', args)) }) },
  { name: 'extend', aliases: ['ex'], apply: (plan, args) => ({ ...plan, extend: extend('extend', args, plan.extend) }) },
  {
    name: 'extend_aspect_ratio',
    aliases: ['extend_ar', 'exar'],
    apply: (plan, args) => ({ ...plan, extendAspectRatio: extend('extend_aspect_ratio', args, plan.extendAspectRatio) }),
  },
  { name: 'gravity', aliases: ['g'], apply: (plan, args) => ({ ...plan, gravity: gravity('gravity', args, CROP_GRAVITIES) }) },
  { name: 'crop', aliases: ['c'], apply: crop },
  { name: 'trim', aliases: ['t'], apply: trim },
  { name: 'padding', aliases: ['pd'], apply: padding },
  { name: 'auto_rotate', aliases: ['ar'], apply: (plan, args) => ({ ...plan, autoRotate: bool('auto_rotate', one('auto_rotate', args)) }) },
  { name: 'rotate', aliases: ['rot'], apply: rotate },
  { name: 'flip', aliases: ['fl'], apply: flip },
];
