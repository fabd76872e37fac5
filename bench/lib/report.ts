// Writes a run's results: <stamp>.json (everything, raw samples included), <stamp>.md (tables,
// goals, charts) and one SVG per chart, all under the results directory.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Machine } from './machine.js';
import { renderChart } from './svg.js';
import type { Profile, ScenarioResult, Table } from './types.js';

export interface RunReport {
  readonly startedAt: string;
  readonly seconds: number;
  readonly profile: Profile;
  readonly machine: Machine;
  readonly scenarios: readonly ScenarioResult[];
  readonly failures: readonly { readonly id: string; readonly error: string }[];
}

export interface WrittenReport {
  readonly json: string;
  readonly markdown: string;
  readonly charts: readonly string[];
  /** The Markdown body with chart links relative to `linkBase`. */
  body(linkBase: string): string;
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function table(t: Table): string[] {
  return [
    `*${t.caption}*`,
    '',
    `| ${t.columns.map(cell).join(' | ')} |`,
    `|${t.columns.map(() => '---').join('|')}|`,
    ...t.rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
    '',
  ];
}

const verdict = (met: boolean | null): string => (met === null ? '—' : met ? '✅ met' : '❌ not met');

export function stampOf(date: Date): string {
  return date
    .toISOString()
    .replace(/[:]/g, '-')
    .replace(/\.\d+Z$/, 'Z');
}

export function markdownBody(report: RunReport, chartFile: (id: string) => string): string {
  const m = report.machine;
  const lines: string[] = [
    `Run of ${report.startedAt}, profile **${report.profile.name}** (big file ${(report.profile.bigBytes / 2 ** 20).toFixed(0)} MiB, ${report.profile.reps} interleaved repetitions, ${report.profile.wrkSeconds} s per wrk run), ${Math.round(report.seconds)} s in all.`,
    '',
    `Machine: ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB RAM, ${m.kernel}, Node ${m.node}, nginx ${m.nginx}, libvips ${m.libvips}, wrk ${m.wrk}, curl ${m.curl}. Everything on loopback.`,
    '',
    '### Goals',
    '',
    '| # | goal (BENCH.md) | measured | verdict | margin |',
    '|---|---|---|---|---|',
  ];
  for (const s of report.scenarios)
    for (const g of s.goals) lines.push(`| ${s.id} | ${cell(g.goal)} | ${cell(g.measured)} | ${verdict(g.met)} | ${cell(g.margin)} |`);
  for (const f of report.failures) lines.push(`| ${f.id} | (scenario failed) | ${cell(f.error.split('\n')[0] ?? '')} | ❌ failed | — |`);
  lines.push('');
  for (const s of report.scenarios) {
    lines.push(`### ${s.id}: ${s.title}`, '', `Peers: ${s.peers}. (${Math.round(s.seconds)} s)`, '');
    for (const t of s.tables) lines.push(...table(t));
    for (const n of s.notes) lines.push(`> ${n}`, '');
    for (const c of s.charts) lines.push(`![${c.title}](${chartFile(c.id)})`, '');
  }
  for (const f of report.failures) lines.push(`### ${f.id}: failed`, '', '```', f.error, '```', '');
  return lines.join('\n');
}

export async function writeReport(report: RunReport, dir: string): Promise<WrittenReport> {
  await mkdir(dir, { recursive: true });
  const stamp = stampOf(new Date(report.startedAt));
  const chartName = (id: string): string => `${stamp}-${id}.svg`;
  const charts: string[] = [];
  for (const s of report.scenarios) {
    for (const c of s.charts) {
      const file = path.join(dir, chartName(c.id));
      await writeFile(file, renderChart(c));
      charts.push(file);
    }
  }
  const json = path.join(dir, `${stamp}.json`);
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  const markdown = path.join(dir, `${stamp}.md`);
  await writeFile(markdown, `# Sluice benchmark report\n\n${markdownBody(report, chartName)}`);
  return { json, markdown, charts, body: (linkBase) => markdownBody(report, (id) => `${linkBase}${chartName(id)}`) };
}
