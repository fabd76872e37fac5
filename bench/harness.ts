// Runs the selected scenarios one after another, each bounded and cleaned up, sharing expensive
// fixtures (the big file, the S3 server) between them, and writes the report.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeBenchmarksMd } from './lib/benchmarks-md.js';
import { describeMachine } from './lib/machine.js';
import { PROFILES } from './lib/profiles.js';
import { writeReport, type RunReport, type WrittenReport } from './lib/report.js';
import type { Context, Profile, Scenario, ScenarioResult } from './lib/types.js';
import { b1 } from './scenarios/b1-fs-download.js';
import { b2 } from './scenarios/b2-s3-download.js';
import { b3 } from './scenarios/b3-small-downloads.js';
import { b3c } from './scenarios/b3c-cold-path.js';
import { b4 } from './scenarios/b4-cost-vs-size.js';
import { b5 } from './scenarios/b5-transforms.js';
import { b6 } from './scenarios/b6-cache-hit.js';
import { b7 } from './scenarios/b7-bytes-saved.js';
import { b8 } from './scenarios/b8-storm.js';
import { b9 } from './scenarios/b9-encrypted.js';
import { b10 } from './scenarios/b10-scale-out.js';

export const SCENARIOS: readonly Scenario[] = [b1, b2, b3, b3c, b4, b5, b6, b7, b8, b9, b10];

export interface BenchOptions {
  readonly profile: Profile['name'];
  /** Scenario ids to run; all when empty. */
  readonly only: readonly string[];
  readonly outDir: string;
  /** Rewrite this BENCHMARKS.md (with chart links relative to it), or leave it alone. */
  readonly benchmarksMd?: string;
  readonly log?: (line: string) => void;
}

export interface BenchRun {
  readonly report: RunReport;
  readonly written: WrittenReport;
}

export async function runBench(options: BenchOptions): Promise<BenchRun> {
  const unknown = options.only.filter((id) => !SCENARIOS.some((s) => s.id === id));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')} (known: ${SCENARIOS.map((s) => s.id).join(', ')})`);
  const selected = options.only.length === 0 ? SCENARIOS : SCENARIOS.filter((s) => options.only.includes(s.id));
  const profile = PROFILES[options.profile];
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const startedAt = new Date();
  const started = performance.now();
  const clock = (): string => {
    const s = Math.floor((performance.now() - started) / 1000);
    return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  };
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'sluice-bench-'));
  await chmod(workDir, 0o755); // nginx workers (maybe another user) read the data through it
  const shared = new Map<string, { value: Promise<unknown>; dispose?: (value: never) => Promise<void> }>();
  const ctx: Context = {
    profile,
    workDir,
    progress: (message) => log(`[${clock()}] ${message}`),
    shared<T>(name: string, create: () => Promise<T>, dispose?: (value: T) => Promise<void>): Promise<T> {
      let entry = shared.get(name);
      if (entry === undefined) {
        entry = { value: create(), ...(dispose !== undefined && { dispose: dispose as (value: never) => Promise<void> }) };
        shared.set(name, entry);
      }
      return entry.value as Promise<T>;
    },
  };
  const scenarios: ScenarioResult[] = [];
  const failures: { id: string; error: string }[] = [];
  try {
    for (const scenario of selected) {
      ctx.progress(`${scenario.id}: ${scenario.title}`);
      const t0 = performance.now();
      try {
        const result = await scenario.run(ctx);
        scenarios.push({ id: scenario.id, title: scenario.title, seconds: (performance.now() - t0) / 1000, ...result });
        const goals = result.goals.map((g) => `${g.met === null ? '?' : g.met ? 'met' : 'NOT met'} (${g.measured})`).join('; ');
        ctx.progress(`${scenario.id} done in ${((performance.now() - t0) / 1000).toFixed(0)} s: ${goals}`);
      } catch (error) {
        const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
        failures.push({ id: scenario.id, error: text });
        ctx.progress(`${scenario.id} FAILED: ${text.split('\n')[0]}`);
      }
    }
  } finally {
    for (const entry of shared.values()) {
      if (entry.dispose === undefined) continue;
      const value = await entry.value.catch(() => undefined);
      if (value !== undefined) await entry.dispose(value as never).catch(() => undefined);
    }
    await rm(workDir, { recursive: true, force: true });
  }
  const report: RunReport = {
    startedAt: startedAt.toISOString(),
    seconds: (performance.now() - started) / 1000,
    profile,
    machine: await describeMachine(),
    scenarios,
    failures,
  };
  const written = await rerender(report, options.outDir, options.benchmarksMd);
  ctx.progress(`report: ${written.markdown}`);
  return { report, written };
}

/** Writes a run's report files (and BENCHMARKS.md when given) from its results. */
export async function rerender(report: RunReport, outDir: string, benchmarksMd?: string): Promise<WrittenReport> {
  const written = await writeReport(report, outDir);
  if (benchmarksMd !== undefined) {
    const linkBase = `${path.relative(path.dirname(benchmarksMd), outDir).split(path.sep).join('/')}/`;
    await writeBenchmarksMd(benchmarksMd, report, written, linkBase);
  }
  return written;
}
