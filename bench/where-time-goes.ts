// Where a small download's CPU goes: app and nginx CPU per request (every thread of each, from
// /proc, nginx's master and workers summed) for the B3 workloads, the app in its own process.
// Shows what a decision-cache hit still costs nginx, next to nginx static and the app round trip.
//   node --import tsx bench/where-time-goes.ts [--seconds 5] [--reps 3] [--connections 16] [--built]
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildApp, startColdPathStack, type Workload } from './lib/cold-path.js';
import { treeCpuSeconds } from './lib/proc.js';
import { median } from './lib/stats.js';
import { flag, runShape } from './lib/args.js';

const { seconds, reps, connections } = runShape();
const built = flag('--built');
const buildDir = built ? await mkdtemp(path.join(os.tmpdir(), 'sluice-build-')) : undefined;
if (buildDir !== undefined) await buildApp(buildDir);
const WORKLOADS: Record<string, Workload> = {
  'cold, nginx static': { mix: 'cold', target: 'direct', kind: 'HS256' },
  'cold, Sluice (cache off)': { mix: 'cold', target: 'files', kind: 'HS256' },
  'warm, nginx static': { mix: 'warm', target: 'direct', kind: 'HS256' },
  'warm, Sluice decision cache': { mix: 'warm', target: 'cached', kind: 'HS256' },
  'warm, Sluice (cache off)': { mix: 'warm', target: 'files', kind: 'HS256' },
};
const stack = await startColdPathStack({
  decisionCacheSeconds: 10,
  videoBytes: 256 * 2 ** 20,
  ...(buildDir !== undefined && { appRoot: buildDir, built: true }),
});
const rows = new Map<string, { rps: number; app: number; nginx: number; hits?: number }[]>();
try {
  for (const w of Object.values(WORKLOADS)) await stack.load(w, 8, 1);
  for (let rep = 1; rep <= reps; rep++) {
    const names = rep % 2 === 1 ? Object.keys(WORKLOADS) : Object.keys(WORKLOADS).reverse();
    for (const name of names) {
      const nginxBefore = treeCpuSeconds(stack.nginxPid);
      const r = await stack.load(WORKLOADS[name] as Workload, connections, seconds);
      const nginx = ((treeCpuSeconds(stack.nginxPid) - nginxBefore) / r.wrk.requests) * 1e6;
      rows.set(name, [...(rows.get(name) ?? []), { rps: r.wrk.rps, app: r.cpuMicrosPerRequest, nginx, ...(r.hitRate !== undefined && { hits: r.hitRate }) }]);
      process.stderr.write(
        `rep ${rep} ${name}: ${r.wrk.rps.toFixed(0)} req/s, app ${r.cpuMicrosPerRequest.toFixed(1)} µs, nginx ${nginx.toFixed(1)} µs per request\n`,
      );
    }
  }
} finally {
  await stack.stop();
  if (buildDir !== undefined) await rm(buildDir, { recursive: true, force: true });
}
process.stdout.write(
  `| workload (${connections} connections, median of ${reps}) | req/s | app CPU µs/request | nginx CPU µs/request | hits |\n|---|---|---|---|---|\n`,
);
for (const [name, rs] of rows) {
  const m = (pick: (x: { rps: number; app: number; nginx: number; hits?: number }) => number): number => median(rs.map(pick));
  const hits = rs.some((x) => x.hits !== undefined) ? `${(m((x) => x.hits ?? Number.NaN) * 100).toFixed(1)}%` : '—';
  process.stdout.write(`| ${name} | ${m((x) => x.rps).toFixed(0)} | ${m((x) => x.app).toFixed(1)} | ${m((x) => x.nginx).toFixed(1)} | ${hits} |\n`);
}
