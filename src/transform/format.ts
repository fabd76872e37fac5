// Which format a result is encoded in: the URL's explicit format wins; otherwise AVIF or WebP
// when the client accepts them and negotiation is on; otherwise the source's own format when
// Sluice can write it, else JPEG.
import { OUTPUT_FORMATS, type OutputFormat, type TransformPlan } from './plan.js';

export interface NegotiationOptions {
  /** Pick AVIF/WebP from the Accept header when the URL names no format. */
  readonly negotiate: boolean;
  /** With both accepted, AVIF before WebP (smaller, slower to encode). */
  readonly preferAvif: boolean;
  /** imgproxy's ENFORCE_AVIF/WEBP: negotiate even when the URL names a format. */
  readonly enforce?: boolean;
}

export interface FormatChoice {
  readonly format: OutputFormat;
  /** The choice depended on Accept: the response must carry `Vary: Accept` (and caches key on it). */
  readonly varyAccept: boolean;
}

export function chooseOutputFormat(plan: TransformPlan, sourceFormat: string | null, acceptHeader: string | undefined, options: NegotiationOptions): FormatChoice {
  const consultsAccept = options.negotiate && (plan.format === null || options.enforce === true);
  if (consultsAccept) {
    const accepted = acceptedImageTypes(acceptHeader);
    const order: OutputFormat[] = options.preferAvif ? ['avif', 'webp'] : ['webp', 'avif'];
    const negotiated = order.find((format) => accepted.has(`image/${format}`));
    if (negotiated !== undefined) return { format: negotiated, varyAccept: true };
  }
  if (plan.format !== null) return { format: plan.format, varyAccept: consultsAccept };
  return { format: asOutputFormat(sourceFormat) ?? 'jpeg', varyAccept: consultsAccept };
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
