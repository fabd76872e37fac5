// imgproxy's `raw`: the source is passed through untouched. Its type comes from its first bytes,
// never from its name; only raster images may be shown inline. Anything else (SVG, HTML, text,
// unknown bytes) is a download (`attachment`), and every answer of the image location carries
// nosniff and a sandboxing CSP, so nothing passed through raw can run on this origin.
import type { RenderedImage } from './rendered.js';

interface Signature {
  readonly format: string;
  readonly contentType: string;
  readonly extension: string;
  readonly test: (head: Buffer) => boolean;
}

const ascii = (head: Buffer, start: number, end: number): string => head.toString('latin1', start, end);

const RASTER: readonly Signature[] = [
  { format: 'jpeg', contentType: 'image/jpeg', extension: 'jpg', test: (h) => h.length >= 3 && h[0] === 0xff && h[1] === 0xd8 && h[2] === 0xff },
  { format: 'png', contentType: 'image/png', extension: 'png', test: (h) => h.subarray(0, 8).equals(Buffer.from('89504e470d0a1a0a', 'hex')) },
  { format: 'gif', contentType: 'image/gif', extension: 'gif', test: (h) => /^GIF8[79]a$/.test(ascii(h, 0, 6)) },
  { format: 'webp', contentType: 'image/webp', extension: 'webp', test: (h) => ascii(h, 0, 4) === 'RIFF' && ascii(h, 8, 12) === 'WEBP' },
  { format: 'avif', contentType: 'image/avif', extension: 'avif', test: (h) => ascii(h, 4, 8) === 'ftyp' && /^avi[fs]$/.test(ascii(h, 8, 12)) },
];

/** SVG is recognized so it gets its name and type, and is never shown inline (scripts). */
function isSvg(head: Buffer): boolean {
  const text = head
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart();
  return /^(?:<\?xml[^>]*>\s*)?(?:<!--[\s\S]*?-->\s*)*(?:<!DOCTYPE svg[^>]*>\s*)?<svg[\s>]/i.test(text);
}

export function sniffRaw(source: Buffer): RenderedImage {
  const head = source.subarray(0, 1024);
  const raster = RASTER.find((signature) => signature.test(head));
  if (raster !== undefined) return { data: source, format: raster.format, contentType: raster.contentType, extension: raster.extension, attachmentOnly: false };
  if (isSvg(head)) return { data: source, format: 'svg', contentType: 'image/svg+xml', extension: 'svg', attachmentOnly: true };
  return { data: source, format: 'unknown', contentType: 'application/octet-stream', extension: null, attachmentOnly: true };
}
