// Options about pixels after resizing (effects, watermark), the encoded result (metadata,
// quality, format) and request handling (expiry, file name, presets).
import type { OutputFormat, TransformPlan, WatermarkPosition } from '../plan.js';
import { OTHER_IMGPROXY_FORMATS, base64UrlText, bool, expectArgs, float, hexColor, int, outputFormat, type Args } from './args.js';
import { expiredUrl, invalidOption } from './errors.js';
import { WATERMARK_POSITIONS } from './gravity.js';
import type { OptionSpec } from './spec.js';

const one = (name: string, args: Args): string => {
  expectArgs(name, args, 1, 1);
  return args[0] as string;
};

const given = (arg: string | undefined): arg is string => arg !== undefined && arg !== '';

/** `hex`, `R:G:B`, or empty to clear (back to transparency / white for JPEG). */
function background(plan: TransformPlan, args: Args): TransformPlan {
  if (args.length === 1) return { ...plan, background: args[0] === '' ? null : hexColor('background', args[0]) };
  expectArgs('background', args, 3, 3);
  const [r, g, b] = args.map((arg) => int('background', arg, { min: 0, max: 255 })) as [number, number, number];
  return { ...plan, background: Object.freeze({ r, g, b }) };
}

/** `opacity[:position[:x[:y[:scale]]]]`; arguments left out keep earlier values (a preset's); opacity 0 removes it. */
function watermark(plan: TransformPlan, args: Args): TransformPlan {
  expectArgs('watermark', args, 1, 5);
  const opacity = float('watermark', args[0], { min: 0, max: 1 });
  if (opacity === 0) return { ...plan, watermark: null };
  const position = (given(args[1]) ? args[1] : (plan.watermark?.position ?? 'ce')) as WatermarkPosition;
  if (!WATERMARK_POSITIONS.has(position)) throw invalidOption('watermark');
  return {
    ...plan,
    watermark: Object.freeze({
      opacity,
      position,
      x: given(args[2]) ? float('watermark', args[2]) : (plan.watermark?.x ?? 0),
      y: given(args[3]) ? float('watermark', args[3]) : (plan.watermark?.y ?? 0),
      scale: given(args[4]) ? float('watermark', args[4], { min: 0 }) : (plan.watermark?.scale ?? 0),
    }),
  };
}

/** `format:quality` pairs; quality 0 drops the format's entry. */
function formatQuality(plan: TransformPlan, args: Args): TransformPlan {
  if (args.length === 0 || args.length % 2 !== 0) throw invalidOption('format_quality');
  const next: Partial<Record<OutputFormat, number>> = { ...plan.formatQuality };
  for (let i = 0; i < args.length; i += 2) {
    const format = outputFormat(args[i] as string);
    if (format === null) throw invalidOption('format_quality');
    const quality = int('format_quality', args[i + 1], { min: 0, max: 100 });
    if (quality === 0) delete next[format];
    else next[format] = quality;
  }
  return { ...plan, formatQuality: Object.freeze(next) };
}

function format(plan: TransformPlan, args: Args): TransformPlan {
  const f = outputFormat(one('format', args));
  if (f === null) throw invalidOption('format');
  return { ...plan, format: f };
}

/** Appends to the list (sorted, without duplicates, so equal lists give equal plans). */
function skipProcessing(plan: TransformPlan, args: Args): TransformPlan {
  if (args.length === 0) throw invalidOption('skip_processing');
  const formats = new Set<OutputFormat>(plan.skipProcessing);
  for (const arg of args) {
    const f = outputFormat(arg);
    if (f !== null) formats.add(f);
    else if (!OTHER_IMGPROXY_FORMATS.has(arg.toLowerCase())) throw invalidOption('skip_processing');
  }
  return { ...plan, skipProcessing: Object.freeze([...formats].sort()) };
}

function expires(plan: TransformPlan, args: Args, nowSeconds: number): TransformPlan {
  const at = int('expires', one('expires', args));
  if (at > 0 && at < nowSeconds) throw expiredUrl();
  return { ...plan, expires: at > 0 ? at : null };
}

/** `name[:encoded]`: the base name of the download (the extension follows the format). */
function filename(plan: TransformPlan, args: Args): TransformPlan {
  expectArgs('filename', args, 1, 2);
  const raw = args[0] as string;
  // imgproxy treats anything but a true value as "not encoded"
  const encoded = given(args[1]) && ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(args[1]);
  // Plain names arrive percent-encoded (helpers write `quote(name)`): decoded once, as imgproxy does
  const name = encoded ? base64UrlText('filename', raw) : percentDecodedText('filename', raw);
  // it ends up in Content-Disposition: no control characters, no path separators
  if (/[\u0000-\u001f\u007f/\\]/.test(name) || Buffer.byteLength(name) > 255) throw invalidOption('filename');
  return { ...plan, filename: name === '' ? null : name };
}

/** Go's url.PathUnescape on an option argument, as UTF-8 text; a bad escape or bad UTF-8 is an invalid option. */
function percentDecodedText(name: string, arg: string): string {
  if (!arg.includes('%')) return arg;
  if (/%(?![0-9A-Fa-f]{2})/.test(arg)) throw invalidOption(name);
  try {
    return decodeURIComponent(arg);
  } catch {
    throw invalidOption(name);
  }
}

const flag =
  (name: string, key: 'stripMetadata' | 'keepCopyright' | 'stripColorProfile' | 'returnAttachment' | 'raw') =>
  (plan: TransformPlan, args: Args): TransformPlan => ({ ...plan, [key]: bool(name, one(name, args)) });

export const OUTPUT_OPTIONS: readonly OptionSpec[] = [
  { name: 'background', aliases: ['bg'], apply: background },
  { name: 'blur', aliases: ['bl'], apply: (plan, args) => ({ ...plan, blur: float('blur', one('blur', args), { min: 0 }) }) },
  { name: 'sharpen', aliases: ['sh'], apply: (plan, args) => ({ ...plan, sharpen: float('sharpen', one('sharpen', args), { min: 0 }) }) },
  { name: 'pixelate', aliases: ['pix'], apply: (plan, args) => ({ ...plan, pixelate: int('pixelate', one('pixelate', args), { min: 0 }) }) },
  { name: 'watermark', aliases: ['wm'], apply: watermark },
  { name: 'strip_metadata', aliases: ['sm'], apply: flag('strip_metadata', 'stripMetadata') },
  { name: 'keep_copyright', aliases: ['kcr'], apply: flag('keep_copyright', 'keepCopyright') },
  { name: 'strip_color_profile', aliases: ['scp'], apply: flag('strip_color_profile', 'stripColorProfile') },
  { name: 'quality', aliases: ['q'], apply: (plan, args) => ({ ...plan, quality: int('quality', one('quality', args), { min: 0, max: 100 }) }) },
  { name: 'format_quality', aliases: ['fq'], apply: formatQuality },
  { name: 'max_bytes', aliases: ['mb'], apply: (plan, args) => ({ ...plan, maxBytes: int('max_bytes', one('max_bytes', args), { min: 0 }) }) },
  { name: 'format', aliases: ['f', 'ext'], apply: format },
  { name: 'skip_processing', aliases: ['skp'], apply: skipProcessing },
  { name: 'cachebuster', aliases: ['cb'], apply: (plan, args) => ({ ...plan, cacheBuster: one('cachebuster', args) }) },
  { name: 'expires', aliases: ['exp'], apply: (plan, args, context) => expires(plan, args, context.nowSeconds) },
  { name: 'filename', aliases: ['fn'], apply: filename },
  { name: 'return_attachment', aliases: ['att'], apply: flag('return_attachment', 'returnAttachment') },
  { name: 'raw', aliases: [], apply: flag('raw', 'raw') },
  {
    name: 'preset',
    aliases: ['pr'],
    apply: (plan, args, context) => {
      if (args.length === 0 || args.some((name) => name === '')) throw invalidOption('preset');
      return context.applyPresets(plan, args);
    },
  },
];
