// B7: bytes shipped for a real image corpus — negotiated thumbnails (AVIF, WebP by Accept) and
// same-size re-encodes (JPEG, WebP, AVIF) against the originals, with SSIM on luma so smaller
// never silently means worse.
import { statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { atLeast } from '../lib/goals.js';
import { findCorpus, ORIGINAL_FORMATS, writeOriginal } from '../lib/corpus.js';
import { imgPath, startImageStack } from '../lib/image-stack.js';
import { luma, ssim, type Luma } from '../lib/ssim.js';
import { median, percentile } from '../lib/stats.js';
import type { Scenario } from '../lib/types.js';
import { request } from '../../test/helpers/http.js';

interface Variant {
  readonly name: string;
  readonly kind: 'thumbnail' | 're-encode';
  readonly path: (file: string) => string;
  readonly accept?: string;
}

const VARIANTS: readonly Variant[] = [
  // No format in the URL: the worker negotiates from Accept.
  { name: 'thumbnail, Accept AVIF', kind: 'thumbnail', path: (f) => imgPath('rs:fit:400:300', f), accept: 'image/avif,image/webp,*/*' },
  { name: 'thumbnail, Accept WebP', kind: 'thumbnail', path: (f) => imgPath('rs:fit:400:300', f), accept: 'image/webp,*/*' },
  { name: 'same size JPEG', kind: 're-encode', path: (f) => imgPath('rs:fit:0:0', f, 'jpg') },
  { name: 'same size WebP', kind: 're-encode', path: (f) => imgPath('rs:fit:0:0', f, 'webp') },
  { name: 'same size AVIF', kind: 're-encode', path: (f) => imgPath('rs:fit:0:0', f, 'avif') },
];

interface Measurement {
  readonly image: string;
  readonly original: string;
  readonly originalBytes: number;
  readonly variant: string;
  readonly bytes: number;
  readonly saved: number;
  readonly ssim: number;
  readonly contentType: string;
}

export const b7: Scenario = {
  id: 'B7',
  title: 'Bytes shipped: negotiated thumbnails and same-size re-encodes vs originals',
  async run(ctx) {
    const sources = findCorpus(ctx.profile.corpusImages);
    if (sources.length === 0) throw new Error('B7: no corpus images found (install desktop-base: scripts/bootstrap.sh --bench)');
    const root = path.join(ctx.workDir, 'corpus');
    await mkdir(root, { recursive: true });
    const originals: string[] = [];
    for (const [i, source] of sources.entries()) {
      ctx.progress(`B7 rendering original ${i + 1}/${sources.length} from ${source}`);
      originals.push(await writeOriginal(source, root, `image-${i}`, ORIGINAL_FORMATS[i % ORIGINAL_FORMATS.length] as (typeof ORIGINAL_FORMATS)[number]));
    }
    // Same-size re-encodes of a 4K original: the AVIF result-area limit (a guard for renders that
    // cannot be stopped at the deadline) is lifted to one 4K frame, so every format keeps the size.
    const stack = await startImageStack(root, {
      cache: { enabled: false },
      requestTimeoutMs: 120_000,
      limits: { formatMaxResultPixels: { avif: 3840 * 2160, gif: 3840 * 2160 } },
    });
    const results: Measurement[] = [];
    try {
      for (const [i, original] of originals.entries()) {
        const file = path.basename(original);
        const originalBytes = statSync(original).size;
        let reference: Luma | undefined;
        for (const variant of VARIANTS) {
          const res = await request(stack.port, variant.path(file), { headers: variant.accept === undefined ? {} : { Accept: variant.accept } });
          if (res.status !== 200) throw new Error(`B7 ${file} ${variant.name}: HTTP ${res.status} ${res.text()}`);
          const out = await luma(res.body);
          // Reference: the original at the result's size (a thumbnail is compared with a clean downscale).
          const ref = variant.kind === 're-encode' ? (reference ??= await luma(original)) : await luma(original, { width: out.width, height: out.height });
          results.push({
            image: sources[i] as string,
            original: file,
            originalBytes,
            variant: variant.name,
            bytes: res.body.length,
            saved: 1 - res.body.length / originalBytes,
            ssim: ssim(ref, out),
            contentType: String(res.headers['content-type']),
          });
        }
        ctx.progress(
          `B7 image ${i + 1}/${originals.length} ${file}: ${results
            .slice(-VARIANTS.length)
            .map((r) => `${r.variant} ${(r.saved * 100).toFixed(0)}%`)
            .join(', ')}`,
        );
      }
    } finally {
      await stack.stop();
    }
    const of = (name: string): Measurement[] => results.filter((r) => r.variant === name);
    const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
    const thumbSaved = results.filter((r) => r.variant.startsWith('thumbnail')).map((r) => r.saved);
    return {
      peers: `originals: ${originals.length} wallpapers from Debian packages rendered to 4K and stored as JPEG q90 / PNG / WebP q90 in turn`,
      tables: [
        {
          caption: 'bytes saved vs the original (1 − result/original); SSIM on luma vs the original (thumbnails: vs a clean downscale of it)',
          columns: ['variant', 'content type', 'median saved', 'p90 saved', 'worst saved', 'median SSIM', 'min SSIM'],
          rows: VARIANTS.map((v) => {
            const ms = of(v.name);
            return [
              v.name,
              [...new Set(ms.map((m) => m.contentType))].join(', '),
              pct(median(ms.map((m) => m.saved))),
              pct(
                percentile(
                  ms.map((m) => m.saved),
                  90,
                ),
              ),
              pct(Math.min(...ms.map((m) => m.saved))),
              median(ms.map((m) => m.ssim)).toFixed(4),
              Math.min(...ms.map((m) => m.ssim)).toFixed(4),
            ];
          }),
        },
        {
          caption: 'the corpus',
          columns: ['original', 'from', 'bytes'],
          rows: originals.map((o, i) => [path.basename(o), sources[i] as string, String(statSync(o).size)]),
        },
      ],
      goals: [atLeast('thumbnails ≥ 90% of bytes saved (median over corpus and both formats)', median(thumbSaved) * 100, 90, '%', 1)],
      charts: [],
      notes: [
        'The corpus is desktop artwork shipped by Debian (wallpapers, boot splashes, logos: flat colours and gradients), not camera photos: a small original of flat art can be smaller than its same-size re-encode (negative "saved"); photos behave differently. Anchor: Google, lossy WebP 25–34% smaller than JPEG at equal SSIM.',
      ],
      data: results,
    };
  },
};
