// `npm run bench [-- --quick] [-- --only B1,B3]`: the benchmark suite (see BENCHMARKS.md).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { rerender, runBench } from './harness.js';
import type { RunReport } from './lib/report.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

const program = new Command()
  .name('bench')
  .description('Sluice benchmarks B1–B10 (and B3C), side by side with their peers, on loopback')
  .option('--quick', 'smaller files, fewer and shorter runs (≤ 3 min)')
  .option('--tiny', 'a few seconds: checks the harness itself, not the numbers')
  .option('--only <ids>', 'comma-separated scenario ids, e.g. B1,B3', '')
  .option('--out <dir>', 'results directory', path.join(HERE, 'results'))
  .option('--no-benchmarks-md', 'do not rewrite BENCHMARKS.md')
  .option('--rerender <json>', 'measure nothing: rewrite the Markdown, charts and BENCHMARKS.md from a saved <stamp>.json')
  .parse();

const opts = program.opts<{ quick?: boolean; tiny?: boolean; only: string; out: string; benchmarksMd: boolean; rerender?: string }>();
const benchmarksMd = path.join(HERE, '..', 'BENCHMARKS.md');
// Ctrl-C: exit normally so the helpers' exit hooks stop nginx, the worker and Swift.
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));

if (opts.rerender !== undefined) {
  const saved = JSON.parse(await readFile(opts.rerender, 'utf8')) as RunReport;
  await rerender(saved, path.resolve(opts.out), opts.benchmarksMd ? benchmarksMd : undefined);
  process.exit(0);
}

const { report } = await runBench({
  profile: opts.tiny ? 'tiny' : opts.quick ? 'quick' : 'default',
  only: opts.only
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean),
  outDir: path.resolve(opts.out),
  ...(opts.benchmarksMd && { benchmarksMd }),
});
process.exitCode = report.failures.length > 0 ? 1 : 0;
