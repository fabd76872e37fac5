// SSIM (Wang et al. 2004) on luma, over non-overlapping 8×8 windows, constants for 8-bit data.
// Good enough to compare encoders against each other; not a replacement for a reference tool.
import sharp from 'sharp';

const C1 = (0.01 * 255) ** 2;
const C2 = (0.03 * 255) ** 2;
const WINDOW = 8;

export interface Luma {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** Decoded luma plane (transparency flattened on white), optionally resized to exactly w×h. */
export async function luma(input: Buffer | string, size?: { width: number; height: number }): Promise<Luma> {
  let pipeline = sharp(input, { limitInputPixels: false }).flatten({ background: '#ffffff' });
  if (size !== undefined) pipeline = pipeline.resize(size.width, size.height, { fit: 'fill' });
  const { data, info } = await pipeline.greyscale().raw().toBuffer({ resolveWithObject: true });
  const plane = new Uint8Array(info.width * info.height);
  for (let i = 0; i < plane.length; i++) plane[i] = data[i * info.channels] as number;
  return { width: info.width, height: info.height, data: plane };
}

export function ssim(a: Luma, b: Luma): number {
  if (a.width !== b.width || a.height !== b.height) throw new Error(`ssim: ${a.width}×${a.height} vs ${b.width}×${b.height}`);
  let total = 0;
  let windows = 0;
  for (let y = 0; y + WINDOW <= a.height; y += WINDOW) {
    for (let x = 0; x + WINDOW <= a.width; x += WINDOW) {
      let sa = 0,
        sb = 0,
        saa = 0,
        sbb = 0,
        sab = 0;
      for (let dy = 0; dy < WINDOW; dy++) {
        const row = (y + dy) * a.width + x;
        for (let dx = 0; dx < WINDOW; dx++) {
          const va = a.data[row + dx] as number;
          const vb = b.data[row + dx] as number;
          sa += va;
          sb += vb;
          saa += va * va;
          sbb += vb * vb;
          sab += va * vb;
        }
      }
      const n = WINDOW * WINDOW;
      const ma = sa / n;
      const mb = sb / n;
      const va = saa / n - ma * ma;
      const vb = sbb / n - mb * mb;
      const cov = sab / n - ma * mb;
      total += ((2 * ma * mb + C1) * (2 * cov + C2)) / ((ma * ma + mb * mb + C1) * (va + vb + C2));
      windows++;
    }
  }
  return windows === 0 ? Number.NaN : total / windows;
}
