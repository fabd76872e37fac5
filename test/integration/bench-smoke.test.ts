// The benchmark harness itself (not its numbers): on a tiny input it runs real scenarios against
// real nginx and writes a complete report — JSON, Markdown, SVG charts and BENCHMARKS.md.
// An integration test: it starts nginx (the measurement helpers are unit-tested in test/unit/bench-helpers.test.ts).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runBench, type BenchRun } from '../../bench/harness.js';

describe('bench harness on a tiny input', () => {
  let dir: string;
  let run: BenchRun;
  const lines: string[] = [];

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-bench-smoke-'));
    run = await runBench({
      profile: 'tiny',
      only: ['B1', 'B4', 'B9'],
      outDir: path.join(dir, 'results'),
      benchmarksMd: path.join(dir, 'BENCHMARKS.md'),
      log: (line) => lines.push(line),
    });
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs the selected scenarios without failures and judges every goal', () => {
    assert.deepEqual(run.report.failures, []);
    assert.deepEqual(
      run.report.scenarios.map((s) => s.id),
      ['B1', 'B4', 'B9'],
    );
    for (const goal of run.report.scenarios.flatMap((s) => s.goals)) assert.equal(typeof goal.met, 'boolean', goal.goal);
  });

  it('prints progress while it runs', () => {
    assert.ok(
      lines.some((l) => /^\[\d\d:\d\d\] B1 rep 1\/\d+: Sluice \d+ MB\/s, direct \d+ MB\/s$/.test(l)),
      lines.join('\n'),
    );
  });

  it('writes the JSON, Markdown and SVG files under the results directory', async () => {
    const json = JSON.parse(await readFile(run.written.json, 'utf8')) as { scenarios: { id: string }[]; machine: { cpus: number } };
    assert.equal(json.scenarios.length, 3);
    assert.ok(json.machine.cpus >= 1);
    const markdown = await readFile(run.written.markdown, 'utf8');
    assert.match(markdown, /### B1: Big download, fs store/);
    assert.match(markdown, /\| B4 \| flat: app CPU per request/);
    assert.match(markdown, /### B9: Encrypted store/);
    assert.match(markdown, /\| encrypted fs \(worker\) \| \d/);
    const files = await readdir(path.join(dir, 'results'));
    const svgs = files.filter((f) => f.endsWith('.svg'));
    assert.equal(svgs.length, 2);
    for (const svg of svgs) {
      const text = await readFile(path.join(dir, 'results', svg), 'utf8');
      assert.match(text, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      assert.match(markdown, new RegExp(`\\]\\(${svg.replace(/[.]/g, '\\.')}\\)`));
    }
  });

  it('regenerates BENCHMARKS.md with chart links relative to it', async () => {
    const text = await readFile(path.join(dir, 'BENCHMARKS.md'), 'utf8');
    assert.match(text, /^# Benchmarks/);
    assert.match(text, /## Latest results/);
    assert.match(text, /This is a \*\*tiny\*\* run/);
    assert.match(text, /\]\(results\/[^)]+-b4-throughput\.svg\)/);
  });
});
