// B1: the big download from an fs store through Sluice (nginx mode: the app decides, nginx sends
// the file) next to the same nginx serving the file from a plain static location.
import { curlGet } from '../lib/clients.js';
import { BIG, startDownloadStack } from '../lib/download-stack.js';
import { atLeast } from '../lib/goals.js';
import { formatSpread, ratio, spread } from '../lib/stats.js';
import type { Scenario } from '../lib/types.js';

export const b1: Scenario = {
  id: 'B1',
  title: 'Big download, fs store: Sluice vs nginx static',
  async run(ctx) {
    const { stack, base, tokens, data } = await startDownloadStack(ctx, false);
    const size = data.files[BIG] as number;
    // Transfers of a fraction of a second are noisy: smaller files get more repetitions (≤ 10).
    const reps = Math.min(10, Math.max(5, ctx.profile.reps, Math.ceil((ctx.profile.reps * 2 ** 30) / size)));
    const sluice: number[] = [];
    const direct: number[] = [];
    const expect = async (url: string, headers: Record<string, string> = {}): Promise<number> => {
      const t = await curlGet(url, headers);
      if (t.status !== 200 || t.bytes !== size) throw new Error(`B1 ${url}: HTTP ${t.status}, ${t.bytes} bytes`);
      return t.mbps;
    };
    try {
      // Warm-up (not counted): page cache and first-use costs.
      await expect(`${base}/files/files/${BIG}`, tokens.hs256);
      await expect(`${base}/direct/${BIG}`);
      for (let rep = 1; rep <= reps; rep++) {
        // Alternate which goes first, so neither always runs on a warmer machine.
        const order = rep % 2 === 1 ? ['sluice', 'direct'] : ['direct', 'sluice'];
        for (const which of order) {
          if (which === 'sluice') sluice.push(await expect(`${base}/files/files/${BIG}`, tokens.hs256));
          else direct.push(await expect(`${base}/direct/${BIG}`));
        }
        ctx.progress(`B1 rep ${rep}/${reps}: Sluice ${sluice.at(-1)?.toFixed(0)} MB/s, direct ${direct.at(-1)?.toFixed(0)} MB/s`);
      }
    } finally {
      await stack.stop();
    }
    const perRep = sluice.map((s, i) => ratio(s, direct[i] as number));
    const r = ratio(spread(sluice).median, spread(direct).median);
    return {
      peers: 'nginx static location on the same nginx (no auth)',
      tables: [
        {
          caption: `${(size / 2 ** 20).toFixed(0)} MiB download, curl client, MB/s (10^6 B/s), median (min–max) of ${reps} interleaved runs`,
          columns: ['path', 'MB/s', 'ratio vs direct'],
          rows: [
            ['Sluice (nginx mode)', formatSpread(spread(sluice)), `${r.toFixed(3)} (per-run ${formatSpread(spread(perRep), 3)})`],
            ['nginx static (direct)', formatSpread(spread(direct)), '1'],
          ],
        },
      ],
      goals: [atLeast('MB/s ratio Sluice/direct ≥ 0.97', r, 0.97, '', 3)],
      charts: [],
      notes: [],
      data: { bytes: size, sluiceMBps: sluice, directMBps: direct },
    };
  },
};
