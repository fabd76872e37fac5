// Data the benchmarks generate for themselves: random files of any size, a photo-like 4K JPEG,
// and tokens (HS256 and ES256) the download stack accepts.
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import sharp from 'sharp';
import { mintToken } from '../../src/auth/mint.js';
import { TEST_SECRET } from '../../test/helpers/tokens.js';

/** Random (incompressible) bytes, written in 16 MiB chunks so memory stays flat. */
export async function writeRandomFile(file: string, bytes: number): Promise<void> {
  const chunk = randomBytes(Math.min(bytes, 16 * 1024 * 1024));
  const out = createWriteStream(file);
  for (let written = 0; written < bytes; written += chunk.length) {
    const piece = bytes - written >= chunk.length ? chunk : chunk.subarray(0, bytes - written);
    if (!out.write(piece)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

/** A 3840×2160 JPEG that compresses like a photo: gradients, soft shapes and grain. */
export async function writePhoto4k(file: string, width = 3840, height = 2160): Promise<number> {
  const shapes = Array.from({ length: 40 }, (_, i) => {
    const x = (i * 977) % width;
    const y = (i * 613) % height;
    const r = Math.round(((80 + ((i * 37) % 400)) * width) / 3840);
    return `<circle cx="${x}" cy="${y}" r="${r}" fill="hsl(${(i * 47) % 360},60%,55%)" fill-opacity="0.55"/>`;
  }).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#1d3557"/><stop offset="0.5" stop-color="#a8dadc"/><stop offset="1" stop-color="#e63946"/></linearGradient>
    <filter id="b"><feGaussianBlur stdDeviation="12"/></filter></defs>
    <rect width="100%" height="100%" fill="url(#g)"/><g filter="url(#b)">${shapes}</g></svg>`;
  const grain = await sharp({ create: { width, height, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 18 } } })
    .png()
    .toBuffer();
  const info = await sharp(Buffer.from(svg))
    .composite([{ input: grain, blend: 'overlay' }])
    .jpeg({ quality: 90 })
    .toFile(file);
  return info.size;
}

export interface BenchTokens {
  readonly hs256: Record<string, string>;
  readonly es256: Record<string, string>;
  /** auth.keys accepting both. */
  readonly authConfig: Record<string, unknown>;
}

export async function makeTokens(): Promise<BenchTokens> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const now = Math.floor(Date.now() / 1000);
  const es = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: 'bench-es256' })
    .setSubject('bench')
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(privateKey);
  return {
    // An hour: longer than the longest run.
    hs256: { Authorization: `Bearer ${await mintToken({ secret: TEST_SECRET, sub: 'bench', ttlSeconds: 3600 })}` },
    es256: { Authorization: `Bearer ${es}` },
    authConfig: {
      keys: [
        { algorithms: ['HS256'], secret: TEST_SECRET },
        { kid: 'bench-es256', algorithms: ['ES256'], publicKey: await exportSPKI(publicKey) },
      ],
    },
  };
}
