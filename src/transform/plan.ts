// The contract between the URL option parser (which builds plans) and the worker pipeline (which
// executes them). A plan is plain, immutable data: serializable to JSON, canonical, and the
// basis of cache keys — two URLs meaning the same image give the same canonical plan.

export const OUTPUT_FORMATS = ['jpeg', 'png', 'webp', 'avif', 'gif'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export type ResizingType = 'fit' | 'fill' | 'fill-down' | 'force' | 'auto';

/** imgproxy gravity names; `fp` = focus point (x, y in 0..1); `sm` = smart (attention). */
export type GravityType = 'no' | 'so' | 'ea' | 'we' | 'noea' | 'nowe' | 'soea' | 'sowe' | 'ce' | 'sm' | 'fp';

export interface Gravity {
  readonly type: GravityType;
  /** Offsets in pixels for compass gravities; coordinates in 0..1 for `fp`; 0 otherwise. */
  readonly x: number;
  readonly y: number;
}

export interface Rgb {
  readonly r: number;
  readonly g: number;
  readonly b: number;
}

export interface Crop {
  /** Pixels (> 1) or a fraction of the source (0..1]; 0 = full dimension. */
  readonly width: number;
  readonly height: number;
  /** null = use the plan's gravity. */
  readonly gravity: Gravity | null;
}

export interface Trim {
  readonly threshold: number;
  /** null = detect from the top-left pixel. */
  readonly color: Rgb | null;
  readonly equalHorizontal: boolean;
  readonly equalVertical: boolean;
}

export interface Padding {
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
  readonly left: number;
}

export interface Extend {
  readonly enabled: boolean;
  /** null = centre. */
  readonly gravity: Gravity | null;
}

export type WatermarkPosition = 'ce' | 'no' | 'so' | 'ea' | 'we' | 'noea' | 'nowe' | 'soea' | 'sowe' | 're';

export interface Watermark {
  /** 0..1; 0 disables the watermark. */
  readonly opacity: number;
  readonly position: WatermarkPosition;
  readonly x: number;
  readonly y: number;
  /** Watermark width relative to the result's width (0 = keep its own size). */
  readonly scale: number;
}

export interface TransformPlan {
  readonly resizingType: ResizingType;
  /** 0 = derive from the other dimension / keep the source's. */
  readonly width: number;
  readonly height: number;
  readonly minWidth: number;
  readonly minHeight: number;
  readonly zoomX: number;
  readonly zoomY: number;
  readonly dpr: number;
  readonly enlarge: boolean;
  readonly extend: Extend;
  readonly extendAspectRatio: Extend;
  readonly gravity: Gravity;
  readonly crop: Crop | null;
  readonly trim: Trim | null;
  readonly padding: Padding | null;
  readonly autoRotate: boolean;
  /** Clockwise degrees, after auto-rotation. */
  readonly rotate: 0 | 90 | 180 | 270;
  readonly flip: { readonly horizontal: boolean; readonly vertical: boolean };
  /** Flattening colour for formats without alpha; null = keep transparency / white for JPEG. */
  readonly background: Rgb | null;
  /** Gaussian sigma; 0 = off. */
  readonly blur: number;
  /** Sharpen sigma; 0 = off. */
  readonly sharpen: number;
  /** Pixel block size; 0 or 1 = off. */
  readonly pixelate: number;
  readonly watermark: Watermark | null;
  readonly stripMetadata: boolean;
  readonly keepCopyright: boolean;
  readonly stripColorProfile: boolean;
  /** 1..100; 0 = the configured default for the format. */
  readonly quality: number;
  readonly formatQuality: Readonly<Partial<Record<OutputFormat, number>>>;
  /** 0 = unlimited; otherwise degrade quality until the result fits. */
  readonly maxBytes: number;
  /** null = the source's format, or the negotiated AVIF/WebP when negotiation is on. */
  readonly format: OutputFormat | null;
  /** Source formats that are passed through untouched. */
  readonly skipProcessing: readonly OutputFormat[];
  /** Part of the cache key only. */
  readonly cacheBuster: string;
  /** Unix seconds; null = never. */
  readonly expires: number | null;
  readonly filename: string | null;
  readonly returnAttachment: boolean;
  /** imgproxy's `raw`: the source bytes are passed through untouched (no decoding, no format change). */
  readonly raw: boolean;
}

const NO_GRAVITY: Gravity = Object.freeze({ type: 'ce', x: 0, y: 0 });

/** imgproxy's defaults: what a URL with no options means. */
export const DEFAULT_PLAN: TransformPlan = Object.freeze({
  resizingType: 'fit',
  width: 0,
  height: 0,
  minWidth: 0,
  minHeight: 0,
  zoomX: 1,
  zoomY: 1,
  dpr: 1,
  enlarge: false,
  extend: Object.freeze({ enabled: false, gravity: null }),
  extendAspectRatio: Object.freeze({ enabled: false, gravity: null }),
  gravity: NO_GRAVITY,
  crop: null,
  trim: null,
  padding: null,
  autoRotate: true,
  rotate: 0,
  flip: Object.freeze({ horizontal: false, vertical: false }),
  background: null,
  blur: 0,
  sharpen: 0,
  pixelate: 0,
  watermark: null,
  stripMetadata: true,
  keepCopyright: true,
  stripColorProfile: true,
  quality: 0,
  formatQuality: Object.freeze({}),
  maxBytes: 0,
  format: null,
  skipProcessing: Object.freeze([]),
  cacheBuster: '',
  expires: null,
  filename: null,
  returnAttachment: false,
  raw: false,
});

/**
 * Where the source bytes are, as named in the URL, before any store lookup:
 * `local:///path` or `s3://bucket/key`, or a store/key pair from the Sluice-native form.
 */
export type SourceRef =
  | { readonly kind: 'local'; readonly path: string }
  | { readonly kind: 's3'; readonly bucket: string; readonly key: string }
  | { readonly kind: 'store'; readonly store: string; readonly key: string };

export interface ParsedTransformRequest {
  readonly plan: TransformPlan;
  readonly source: SourceRef;
}

/**
 * Canonical JSON of a plan (fixed key order, no whitespace): equal plans give equal strings,
 * so it can be hashed into cache keys and ETags.
 */
export function canonicalPlan(plan: TransformPlan): string {
  return JSON.stringify(plan, (_key, value: unknown) =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : value,
  );
}
