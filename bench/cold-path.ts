// App CPU per authorized request on the cold path, the app in its own `sluice serve` process
// (see bench/lib/cold-path.ts). HS256 and ES256 runs alternate; the median run is quoted.
//   node --import tsx bench/cold-path.ts [--seconds 5] [--reps 3] [--connections 16]
//        [--kinds HS256,ES256] [--cpu-prof DIR]  (profile the app: a .cpuprofile when it stops)
//        [--baseline DIR[,DIR…]]  (A/B: also run the app from other checkouts, runs interleaved)
//        [--built]  (run dist/cli/main.js with plain node: this tree is compiled to a temp dir
//                    first; --baseline dirs must then hold a dist/ of their own)
//        [--floor]  (also run bench/lib/koa-floor-app.ts: bare Koa answering the same X-Accel-Redirect)
import path from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { buildApp, startColdPathStack, type ColdPathStack, type ColdRun, type TokenKind } from './lib/cold-path.js';
import { median } from './lib/stats.js';
import { flag, option, runShape } from './lib/args.js';

const { seconds, reps, connections } = runShape();
const profileDir = option('--cpu-prof');
const baseline = option('--baseline');
const kinds = (option('--kinds') ?? 'HS256,ES256').split(',') as TokenKind[];

const built = flag('--built');
const buildDir = built ? await mkdtemp(path.join(os.tmpdir(), 'sluice-build-')) : undefined;
if (buildDir !== undefined) {
  process.stderr.write('compiling this tree (tsc)…\n');
  await buildApp(buildDir);
}
const stacks = new Map<string, ColdPathStack>();
stacks.set(
  'this tree',
  await startColdPathStack({
    ...(profileDir !== undefined && { nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir)}`] }),
    ...(buildDir !== undefined && { appRoot: buildDir, built: true }),
  }),
);
if (flag('--floor')) stacks.set('koa floor', await startColdPathStack({ appScript: ['bench/lib/koa-floor-app.ts'] }));
for (const dir of baseline?.split(',') ?? []) stacks.set(path.basename(dir), await startColdPathStack({ appRoot: path.resolve(dir), built }));
const runs: (ColdRun & { app: string })[] = [];
try {
  for (const stack of stacks.values()) for (const kind of kinds) await stack.run(kind, 8, 1); // warm-up: JIT, keep-alive pools
  for (let rep = 1; rep <= reps; rep++) {
    const apps = rep % 2 === 1 ? [...stacks] : [...stacks].reverse();
    for (const kind of rep % 2 === 1 ? kinds : [...kinds].reverse()) {
      for (const [app, stack] of apps) {
        const run = await stack.run(kind, connections, seconds);
        runs.push({ ...run, app });
        process.stderr.write(
          `rep ${rep} ${app} ${kind}: ${run.wrk.rps.toFixed(0)} req/s, ${run.cpuMicrosPerRequest.toFixed(1)} µs app CPU/request (${run.wrk.requests} requests, ${run.cpuSeconds.toFixed(2)} CPU s)\n`,
        );
      }
    }
  }
} finally {
  for (const stack of stacks.values()) await stack.stop();
  if (buildDir !== undefined) await rm(buildDir, { recursive: true, force: true });
}
for (const app of stacks.keys()) {
  for (const kind of kinds) {
    const mine = runs.filter((r) => r.kind === kind && r.app === app);
    const us = mine.map((r) => r.cpuMicrosPerRequest);
    const rps = mine.map((r) => r.wrk.rps);
    process.stdout.write(
      `${app} ${kind}: ${median(us).toFixed(1)} µs/request (min ${Math.min(...us).toFixed(1)}, max ${Math.max(...us).toFixed(1)}), ${median(rps).toFixed(0)} req/s\n`,
    );
  }
}
