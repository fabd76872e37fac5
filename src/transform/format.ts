// Which format a result is encoded in, decided in two steps because only the worker sees the
// source's bytes:
//   1. the app (requestFormat): what the URL and the client's Accept allow — a fixed format, or a
//      list of negotiable formats (AVIF/WebP) — and whether the answer varies with Accept. This
//      goes into the worker ticket and the nginx cache key.
//   2. the worker (decideFormat): with the source probed (its real format from the bytes, frames,
//      alpha), the final format, as imgproxy's determineOutputFormat does: a negotiated format
//      first (AVIF never for animations), then the URL's format, then the source's own format when
//      Sluice can write it, else GIF for animations, PNG with transparency, JPEG otherwise.
import { OUTPUT_FORMATS, type OutputFormat, type TransformPlan } from './plan.js';

export type NegotiableFormat = 'avif' | 'webp';

export interface NegotiationOptions {
  /** Master switch: consult Accept at all. */
  readonly negotiate: boolean;
  /** With both accepted, AVIF before WebP (smaller, slower to encode). */
  readonly preferAvif: boolean;
  /** imgproxy's AUTO_AVIF / AUTO_WEBP: negotiate the format when the URL names none (default on). */
  readonly autoAvif?: boolean;
  readonly autoWebp?: boolean;
  /** imgproxy's ENFORCE_AVIF / ENFORCE_WEBP: negotiate even when the URL names a format. */
  readonly enforceAvif?: boolean;
  readonly enforceWebp?: boolean;
}

export interface Negotiated {
  readonly format: NegotiableFormat;
  /** Wins over the URL's own format (ENFORCE_*). */
  readonly enforce: boolean;
}

export interface FormatRequest {
  /** The result's format, known without the source; null = the worker decides (decideFormat). */
  readonly fixed: OutputFormat | null;
  /** Formats the client accepts that may replace the URL's/source's, in preference order. */
  readonly negotiable: readonly Negotiated[];
  /** The choice depended on Accept: the response must carry `Vary: Accept` (and caches key on it). */
  readonly varyAccept: boolean;
}

export interface SourceFacts {
  /** sharp's format name of the bytes (jpeg, png, gif, webp, avif, tiff, heif …). */
  readonly format: string;
  /** More than one frame will be rendered (imgproxy: max animation frames > 1 and an animated source). */
  readonly animated: boolean;
  readonly hasAlpha: boolean;
}

/** Step 1, in the app: what the URL and Accept allow. */
export function requestFormat(plan: TransformPlan, acceptHeader: string | undefined, options: NegotiationOptions): FormatRequest {
  if (plan.raw || !options.negotiate) return { fixed: plan.raw ? null : plan.format, negotiable: [], varyAccept: false };
  const order: NegotiableFormat[] = options.preferAvif ? ['avif', 'webp'] : ['webp', 'avif'];
  const enabled = (format: NegotiableFormat): { auto: boolean; enforce: boolean } =>
    format === 'avif'
      ? { auto: options.autoAvif ?? true, enforce: options.enforceAvif ?? false }
      : { auto: options.autoWebp ?? true, enforce: options.enforceWebp ?? false };
  const candidates = order
    .map((format) => ({ format, ...enabled(format) }))
    .filter((c) => (plan.format === null ? c.auto || c.enforce : c.enforce))
    .map((c) => ({ format: c.format, enforce: c.enforce }));
  if (candidates.length === 0) return { fixed: plan.format, negotiable: [], varyAccept: false };
  const accepted = acceptedImageTypes(acceptHeader);
  const negotiable = candidates.filter((c) => accepted.has(`image/${c.format}`));
  return { fixed: negotiable.length === 0 ? plan.format : null, negotiable, varyAccept: true };
}

/** Step 2, in the worker: the final format once the source is known. */
export function decideFormat(plan: TransformPlan, request: Pick<FormatRequest, 'fixed' | 'negotiable'>, source: SourceFacts): OutputFormat {
  if (request.fixed !== null) return request.fixed;
  // AVIF cannot carry an animation here: an animated source keeps WebP or its own format
  const negotiated = request.negotiable.find((c) => !(c.format === 'avif' && source.animated));
  if (negotiated !== undefined && (plan.format === null || negotiated.enforce)) return negotiated.format;
  if (plan.format !== null) return plan.format;
  return asOutputFormat(source.format) ?? (source.animated ? 'gif' : source.hasAlpha ? 'png' : 'jpeg');
}

/** Formats whose encoder writes animations. */
export function writesAnimation(format: OutputFormat): boolean {
  return format === 'gif' || format === 'webp';
}

/**
 * skip_processing: the source is passed through untouched when its format is listed and the
 * URL asks for no other format (imgproxy's rule). Negotiation does not apply to skipped sources.
 */
export function shouldSkipProcessing(plan: TransformPlan, sourceFormat: string | null): boolean {
  const source = asOutputFormat(sourceFormat);
  return source !== null && plan.skipProcessing.includes(source) && (plan.format === null || plan.format === source);
}

/** sharp's format names that Sluice can also write (`jpg` spelled `jpeg`). */
export function asOutputFormat(format: string | null): OutputFormat | null {
  const name = format === 'jpg' ? 'jpeg' : format;
  return name !== null && (OUTPUT_FORMATS as readonly string[]).includes(name) ? (name as OutputFormat) : null;
}

/** Media types listed with a non-zero q; wildcards are ignored (`*\/*` must not imply AVIF). */
function acceptedImageTypes(header: string | undefined): Set<string> {
  const accepted = new Set<string>();
  for (const item of (header ?? '').split(',')) {
    const [type, ...params] = item.split(';').map((part) => part.trim().toLowerCase());
    if (type === undefined || type === '' || type.includes('*')) continue;
    const q = params.find((param) => param.startsWith('q='));
    if (q === undefined || Number(q.slice(2)) > 0) accepted.add(type);
  }
  return accepted;
}
