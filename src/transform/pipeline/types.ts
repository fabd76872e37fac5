// The pipeline's public types: what the worker passes in and gets back.
import type { OutputFormat } from '../plan.js';

export interface RenderLimits {
  /** Source width × height × frames, checked from the header before any decoding. */
  readonly maxInputPixels: number;
  /** Frames (pages) a source may have; 1 refuses animations. */
  readonly maxFrames: number;
  /** Largest width or height of a result; larger results are scaled down to fit. */
  readonly maxResultDimension: number;
}

export interface RenderOptions {
  /** The chosen output format (see chooseOutputFormat). */
  readonly format: OutputFormat;
  readonly limits: RenderLimits;
  /** Quality when the URL sets none; formats left out use DEFAULT_QUALITY. */
  readonly defaultQuality: Readonly<Partial<Record<OutputFormat, number>>>;
  /** AVIF encoder effort 0 (fastest) – 9. */
  readonly avifEffort: number;
  /** The configured watermark image; null = the `watermark` option is ignored. */
  readonly watermark: Buffer | null;
}

export interface ProbeResult {
  /** sharp's name (jpeg, png, webp, gif, tiff, svg, heif …), with `avif` for AV1-coded HEIF. */
  readonly format: string;
  /** As stored, before EXIF orientation. */
  readonly width: number;
  readonly height: number;
  readonly pages: number;
}

export interface RenderResult {
  readonly data: Buffer;
  readonly format: OutputFormat;
  readonly width: number;
  readonly height: number;
}

export const DEFAULT_RENDER_LIMITS: RenderLimits = Object.freeze({ maxInputPixels: 50_000_000, maxFrames: 1, maxResultDimension: 8192 });

/** imgproxy's defaults (IMGPROXY_QUALITY 80, FORMAT_QUALITY webp=79, avif=63); PNG/GIF are lossless. */
export const DEFAULT_QUALITY: Readonly<Record<OutputFormat, number>> = Object.freeze({ jpeg: 80, png: 100, webp: 79, avif: 63, gif: 100 });

/**
 * Chosen by measurement (4K → 400×225, q63, a shared 2-core box): effort 4 took ~6× as long as
 * effort 2 for 1–5% fewer bytes; effort 0 was 25–50% faster but 3–4% larger at a lower SSIM.
 */
export const DEFAULT_AVIF_EFFORT = 2;
