// Argument parsers shared by the option table. Each one throws `invalid option <name>` (404), so
// a table entry reads as a list of checks, like imgproxy's options/parser/parse.go.
import { OUTPUT_FORMATS, type OutputFormat, type Rgb } from '../plan.js';
import { invalidOption } from './errors.js';

export type Args = readonly string[];

export function expectArgs(name: string, args: Args, min: number, max: number): void {
  if (args.length < min || args.length > max) throw invalidOption(name);
}

/** Go's strconv.ParseBool forms, which imgproxy URLs use. */
const TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

export function bool(name: string, arg: string | undefined): boolean {
  if (arg !== undefined && TRUE.has(arg)) return true;
  if (arg !== undefined && FALSE.has(arg)) return false;
  throw invalidOption(name);
}

interface Range {
  readonly min?: number;
  readonly max?: number;
  /** The minimum itself is not allowed (e.g. dpr > 0). */
  readonly exclusiveMin?: boolean;
}

function inRange(value: number, range: Range): boolean {
  if (range.min !== undefined && (range.exclusiveMin === true ? value <= range.min : value < range.min)) return false;
  return range.max === undefined || value <= range.max;
}

export function int(name: string, arg: string | undefined, range: Range = {}): number {
  if (arg === undefined || !/^[+-]?\d{1,15}$/.test(arg)) throw invalidOption(name);
  const value = Number(arg);
  if (!inRange(value, range)) throw invalidOption(name);
  return value;
}

export function float(name: string, arg: string | undefined, range: Range = {}): number {
  if (arg === undefined || !/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(arg)) throw invalidOption(name);
  const value = Number(arg);
  if (!Number.isFinite(value) || !inRange(value, range)) throw invalidOption(name);
  return value;
}

/** `fff`, `ffffff` (imgproxy's hex colours). */
export function hexColor(name: string, arg: string | undefined): Rgb {
  const hex = arg !== undefined && /^[0-9a-fA-F]{3}$/.test(arg) ? arg.replace(/./g, '$&$&') : arg;
  if (hex === undefined || !/^[0-9a-fA-F]{6}$/.test(hex)) throw invalidOption(name);
  return Object.freeze({ r: parseInt(hex.slice(0, 2), 16), g: parseInt(hex.slice(2, 4), 16), b: parseInt(hex.slice(4, 6), 16) });
}

const FORMAT_ALIASES: Readonly<Record<string, OutputFormat>> = { jpg: 'jpeg' };

/** An output format name (`jpg` is JPEG), or null when the name is not one. */
export function outputFormat(arg: string): OutputFormat | null {
  const name = arg.toLowerCase();
  const alias = FORMAT_ALIASES[name];
  if (alias !== undefined) return alias;
  return (OUTPUT_FORMATS as readonly string[]).includes(name) ? (name as OutputFormat) : null;
}

/**
 * Formats imgproxy knows but Sluice never outputs. `skip_processing` accepts them so existing
 * URLs keep working; they never match a source Sluice decodes.
 */
export const OTHER_IMGPROXY_FORMATS: ReadonlySet<string> = new Set(['svg', 'tiff', 'bmp', 'ico', 'heic', 'jxl', 'pdf', 'mp4']);

/** URL-safe base64 without padding (imgproxy's RawURLEncoding; trailing `=` tolerated). */
export function base64UrlText(name: string, arg: string): string {
  const trimmed = arg.replace(/=+$/, '');
  if (!/^[A-Za-z0-9_-]*$/.test(trimmed) || trimmed.length % 4 === 1) throw invalidOption(name);
  return Buffer.from(trimmed, 'base64url').toString('utf8');
}
