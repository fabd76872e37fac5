// B7's image corpus: wallpapers shipped by Debian packages (desktop-base and friends), rendered
// to 4K and stored as JPEG, PNG and WebP originals in turn — the sources a site would upload.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

const ROOTS = ['/usr/share/desktop-base', '/usr/share/backgrounds', '/usr/share/images/desktop-base', '/usr/share/wallpapers', '/usr/share/plymouth/themes'];
const EXTENSIONS = /\.(svg|png|jpe?g|webp)$/i;
const MIN_BYTES = 100_000;

function walk(dir: string, depth: number, found: string[]): void {
  if (depth > 6 || !existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, depth + 1, found);
    else if (entry.isFile() && EXTENSIONS.test(entry.name) && statSync(full).size >= MIN_BYTES) found.push(full);
  }
}

/** One file per artwork (a theme ships the same SVG at many resolutions): prefer the 4K one. */
export function findCorpus(limit: number): string[] {
  const found: string[] = [];
  for (const root of ROOTS) walk(root, 0, found);
  const byArtwork = new Map<string, string>();
  for (const file of found.sort()) {
    const artwork = /\/\d+x\d+\.svg$/.test(file) ? path.dirname(file) : file;
    const current = byArtwork.get(artwork);
    if (current === undefined || file.endsWith('3840x2160.svg')) byArtwork.set(artwork, file);
  }
  // Raster files first: rendering a 4K SVG with librsvg can take tens of seconds.
  const files = [...byArtwork.values()];
  return [...files.filter((f) => !f.endsWith('.svg')), ...files.filter((f) => f.endsWith('.svg'))].slice(0, limit);
}

export const ORIGINAL_FORMATS = ['jpg', 'png', 'webp'] as const;

/** Renders `source` to fit 3840×2160 and writes it as `<name>.<format>` (JPEG/WebP at quality 90). */
export async function writeOriginal(source: string, dir: string, name: string, format: (typeof ORIGINAL_FORMATS)[number]): Promise<string> {
  const file = path.join(dir, `${name}.${format}`);
  let pipeline = sharp(source, { limitInputPixels: false }).resize(3840, 2160, { fit: 'inside' });
  if (format === 'jpg') pipeline = pipeline.flatten({ background: '#ffffff' }).jpeg({ quality: 90 });
  else if (format === 'webp') pipeline = pipeline.webp({ quality: 90 });
  else pipeline = pipeline.png();
  await pipeline.toFile(file);
  return file;
}
