// Reads the header only (sharp's metadata never decodes pixels), so a small file claiming huge
// dimensions is judged before any memory is spent on it.
import sharp, { type Metadata } from 'sharp';
import { decoding, hevcUnsupported, svgRefused, unsupportedFormat } from './errors.js';
import type { ProbeResult } from './types.js';

/** Header facts plus what later steps need (orientation, EXIF). */
export interface SourceInfo extends ProbeResult {
  /** EXIF orientation 1–8 (1 when absent). */
  readonly orientation: number;
  readonly exif: Buffer | null;
  readonly hasAlpha: boolean;
  /** Animations: loop count (0 = forever) and per-frame delays in ms, as the source has them. */
  readonly loop: number;
  readonly delay: readonly number[];
  /** Height of one frame (sharp's pageHeight; = height for stills). */
  readonly pageHeight: number;
}

/**
 * Throws PublicError 422 for bytes that are not a decodable image or are SVG (refused, not
 * sanitized), and 415 for HEVC-coded HEIC (this libvips has no HEVC decoder).
 */
export async function probeImage(source: Buffer): Promise<ProbeResult> {
  const { format, width, height, pages } = await inspectSource(source);
  return { format, width, height, pages };
}

export async function inspectSource(source: Buffer): Promise<SourceInfo> {
  // the pixel limit is ours to apply (assertWithinLimits), with a precise message
  const meta = await decoding(() => sharp(source, { limitInputPixels: false }).metadata());
  if (meta.format === 'svg') throw svgRefused();
  if (meta.format === 'heif' && meta.compression === 'hevc') throw hevcUnsupported();
  if (meta.width === undefined || meta.height === undefined || meta.width < 1 || meta.height < 1) throw unsupportedFormat();
  return {
    format: formatName(meta),
    width: meta.width,
    height: meta.height,
    pages: meta.pages ?? 1,
    orientation: meta.orientation !== undefined && meta.orientation >= 1 && meta.orientation <= 8 ? meta.orientation : 1,
    exif: meta.exif ?? null,
    hasAlpha: meta.hasAlpha === true,
    loop: meta.loop ?? 0,
    delay: meta.delay ?? [],
    pageHeight: meta.pageHeight ?? meta.height,
  };
}

function formatName(meta: Metadata): string {
  return meta.format === 'heif' && meta.compression === 'av1' ? 'avif' : meta.format;
}
