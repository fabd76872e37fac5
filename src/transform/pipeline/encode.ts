// Encoding the finished pixels. max_bytes lowers the quality step by step until the result
// fits (imgproxy's saveImageToFitBytes); lossless formats are written once.
import type { Sharp } from 'sharp';
import type { OutputFormat } from '../plan.js';
import { assertTimeLeft } from './deadline.js';
import { fromFrame, hasAlpha, type Frame } from './frame.js';
import type { RenderResult } from './types.js';

export interface EncodeSettings {
  readonly format: OutputFormat;
  /** 1–100, already resolved from the plan and the defaults. */
  readonly quality: number;
  readonly avifEffort: number;
  /** 0 = no limit. */
  readonly maxBytes: number;
  /** EXIF IFD0 text tags to write; null = none. */
  readonly exif: Readonly<Record<string, string>> | null;
  /** Tag the result with an sRGB ICC profile (strip_color_profile:0); pixels are sRGB either way. */
  readonly iccProfile: boolean;
  /** A stacked animation frame (GIF/WebP): the source's loop count and per-frame delays (ms). */
  readonly animation?: { readonly loop: number; readonly delay: readonly number[] } | null;
}

const LOSSY: ReadonlySet<OutputFormat> = new Set(['jpeg', 'webp', 'avif']);
const MIN_QUALITY = 10;
const GIF_EFFORT = 3;

/** Largest side each encoder can write (libjpeg 65500, WebP 16383, AVIF via libheif 16384). */
export const FORMAT_MAX_DIMENSION: Readonly<Record<OutputFormat, number>> = { jpeg: 65_500, png: 100_000, webp: 16_383, avif: 16_384, gif: 65_535 };

function writer(frame: Frame, settings: EncodeSettings, quality: number): Sharp {
  let image = fromFrame(frame);
  if (settings.iccProfile) image = image.withIccProfile('srgb');
  if (settings.exif !== null && settings.format !== 'gif') image = image.withExif({ IFD0: { ...settings.exif } });
  switch (settings.format) {
    case 'jpeg':
      return (hasAlpha(frame) ? image.removeAlpha() : image).jpeg({ quality });
    case 'png':
      return image.png();
    case 'webp':
      return image.webp({ quality, ...animationOptions(settings) });
    case 'avif':
      return image.avif({ quality, effort: settings.avifEffort, chromaSubsampling: '4:2:0' });
    case 'gif':
      // libimagequant at sharp's default effort 7 took ~7 s for 1 MP of noise (effort 3: ~1 s)
      // and cannot be stopped at the deadline; photos look the same either way.
      return image.gif({ effort: GIF_EFFORT, ...animationOptions(settings) });
  }
}

function animationOptions(settings: EncodeSettings): { loop?: number; delay?: number[] } {
  const animation = settings.animation;
  if (animation === undefined || animation === null) return {};
  return { loop: animation.loop, ...(animation.delay.length > 0 && { delay: [...animation.delay] }) };
}

export async function encode(frame: Frame, settings: EncodeSettings): Promise<RenderResult> {
  let quality = settings.quality;
  for (;;) {
    // max_bytes may encode several times: never start another attempt after the deadline
    assertTimeLeft();
    const { data, info } = await writer(frame, settings, quality).toBuffer({ resolveWithObject: true });
    const fits = settings.maxBytes === 0 || data.length <= settings.maxBytes;
    if (fits || !LOSSY.has(settings.format) || quality <= MIN_QUALITY) return { data, format: settings.format, width: info.width, height: info.height };
    const over = data.length / settings.maxBytes;
    quality = Math.max(MIN_QUALITY, Math.floor(quality * (over > 3 ? 0.25 : over > 1.5 ? 0.5 : 0.75)));
  }
}
