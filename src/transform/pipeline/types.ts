// The pipeline's public types: what the worker passes in and gets back.
import type { OutputFormat } from '../plan.js';

export interface RenderLimits {
  /** Source width × height × frames, checked from the header before any decoding. */
  readonly maxInputPixels: number;
  /** Frames of an animation that are rendered (the rest are dropped); 1 renders the first frame only. */
  readonly maxFrames: number;
  /** Largest width or height of a result; larger results are scaled down to fit. */
  readonly maxResultDimension: number;
  /** Largest width × height of a result (extend and padding included); larger ones are scaled down. */
  readonly maxResultPixels: number;
  /** Stricter area caps for formats whose encoders libvips cannot stop at the deadline (AVIF, GIF). */
  readonly formatMaxResultPixels: Readonly<Partial<Record<OutputFormat, number>>>;
  /** Largest blur sigma a URL may ask for (after dpr it is also capped by the result's size). */
  readonly maxBlurSigma: number;
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
  /** Date.now() by which every libvips pipeline must have stopped (→ 503); unset = no limit. */
  readonly deadlineMs?: number;
  /**
   * Frames to render (an animation when > 1, only for GIF/WebP results); unset = as many as the
   * limit lets through when the format can be animated, else 1.
   */
  readonly frames?: number;
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

/**
 * Result caps chosen by measurement on a 2-core box (noise, the worst case for encoders): a
 * 16 MP (4096²) result costs at most ~4 s of interruptible CPU; AVIF (effort 2) and GIF encode
 * ~0.85 s per megapixel and cannot be stopped, hence 4 MP for them; blur costs ∝ pixels × sigma
 * (sigma 100 on 1 MP: ~0.1 s).
 */
export const DEFAULT_RENDER_LIMITS: RenderLimits = Object.freeze({
  maxInputPixels: 50_000_000,
  maxFrames: 1,
  maxResultDimension: 8192,
  maxResultPixels: 16_777_216,
  formatMaxResultPixels: Object.freeze({ avif: 4_194_304, gif: 4_194_304 }),
  maxBlurSigma: 100,
});

/** imgproxy's defaults (IMGPROXY_QUALITY 80, FORMAT_QUALITY webp=79, avif=63); PNG/GIF are lossless. */
export const DEFAULT_QUALITY: Readonly<Record<OutputFormat, number>> = Object.freeze({ jpeg: 80, png: 100, webp: 79, avif: 63, gif: 100 });

/**
 * Chosen by measurement (4K → 400×225, q63, a shared 2-core box): effort 4 took ~6× as long as
 * effort 2 for 1–5% fewer bytes; effort 0 was 25–50% faster but 3–4% larger at a lower SSIM.
 */
export const DEFAULT_AVIF_EFFORT = 2;
