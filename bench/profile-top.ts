// Top functions of a V8 .cpuprofile (from `node --cpu-prof`, e.g. bench/cold-path.ts --cpu-prof DIR)
// by self time, and by inclusive time for frames whose URL matches a filter.
//   node --import tsx bench/profile-top.ts FILE.cpuprofile [--top 40] [--inclusive src/] [--groups]
// --groups: self time summed by npm package, node: module and src/ file (module loading apart).
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples?: number[];
  timeDeltas?: number[];
}

const file = process.argv[2];
if (file === undefined) throw new Error('usage: profile-top.ts FILE.cpuprofile [--top N] [--inclusive URL-substring]');
const arg = (name: string): string | undefined => {
  const index = process.argv.indexOf(name);
  return index > 0 ? process.argv[index + 1] : undefined;
};
const top = Number(arg('--top') ?? 40);
const inclusiveFilter = arg('--inclusive');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Self time per node from the sample stream (more exact than hitCount × interval).
const selfUs = new Map<number, number>();
const samples = profile.samples ?? [];
const deltas = profile.timeDeltas ?? [];
for (let i = 0; i < samples.length; i++) {
  const id = samples[i] as number;
  const dt = deltas[i + 1] ?? 0;
  selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const label = (n: Node): string => {
  const url = n.callFrame.url.replace(/^file:\/\/.*?\/(node_modules|src|bench|test)\//, '$1/');
  return `${n.callFrame.functionName || '(anonymous)'} ${url}:${n.callFrame.lineNumber + 1}`;
};

const self = new Map<string, number>();
for (const [id, us] of selfUs) {
  const key = label(byId.get(id) as Node);
  self.set(key, (self.get(key) ?? 0) + us);
}
const idle = [...self.entries()].filter(([k]) => k.startsWith('(idle)')).reduce((a, [, v]) => a + v, 0);
const busy = total - idle;
process.stdout.write(`total ${(total / 1e6).toFixed(2)} s, busy ${(busy / 1e6).toFixed(2)} s\n\nself time (share of busy):\n`);
for (const [k, us] of [...self.entries()]
  .filter(([k]) => !k.startsWith('(idle)'))
  .sort((a, b) => b[1] - a[1])
  .slice(0, top)) {
  process.stdout.write(`${((us / busy) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}\n`);
}

if (process.argv.includes('--groups')) {
  const groups = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const { url, functionName } = (byId.get(id) as Node).callFrame;
    let group = url.includes('node_modules/')
      ? `npm ${(url.split('node_modules/')[1] as string).split('/')[0]}`
      : url.includes('/src/')
        ? `src/${url.split('/src/')[1]}`
        : url.startsWith('node:')
          ? `node:${url.slice(5).replace('internal/', '').split('/')[0] as string}`
          : functionName.startsWith('(')
            ? functionName
            : `native ${functionName}`;
    if (/modules|loader|compile|esm/.test(`${group} ${functionName}`)) group = 'module loading (start-up)';
    groups.set(group, (groups.get(group) ?? 0) + us);
  }
  process.stdout.write('\nself time by group:\n');
  for (const [k, us] of [...groups.entries()]
    .filter(([k]) => k !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)) {
    process.stdout.write(`${((us / busy) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}\n`);
  }
}

if (inclusiveFilter !== undefined) {
  // Inclusive time per function label (each sample counted once per label on its stack).
  const inclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur) as Node;
      if (!n.callFrame.url.includes(inclusiveFilter)) continue;
      const key = label(n);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + us);
    }
  }
  process.stdout.write(`\ninclusive time, frames matching "${inclusiveFilter}":\n`);
  for (const [k, us] of [...inclusive.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${((us / busy) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}\n`);
  }
}
