// B10: what scaling out costs and saves. (a) A shared result store (`transform.resultStore` on S3):
// node A renders N thumbnails of a 4K JPEG and stores them; node B (its own nginx, empty
// proxy_cache, its own worker) then asks for the same N URLs — store hits, no render — next to
// node C, which has no result store and renders them. (b) Shared state on Redis Cluster (three
// primaries) vs one Redis server: a counted, rate-limited share-link download through nginx, and
// the same state operations called directly.
import { mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import { wrk, type WrkResult } from '../lib/clients.js';
import { atLeast } from '../lib/goals.js';
import { photoData } from '../lib/image-stack.js';
import { countsSince, startResultStoreNodes, type NodeName, type ResultStoreNodes, type WorkerCounts } from '../lib/result-store-nodes.js';
import { closedLoop, linkDownloadState, startShareLinkNode, type LoopResult, type ShareLinkNode } from '../lib/share-link-nodes.js';
import { formatSpread, median, percentile, ratio, spread } from '../lib/stats.js';
import type { Context, GoalResult, Scenario, Table } from '../lib/types.js';
import { requestEach, curlStartupMs, type ListRun } from '../lib/url-list.js';
import type { RedisTopology } from '../../test/helpers/redis-topology.js';

const PARALLEL = 2;
const CONNECTIONS = 16;
const THUMBS: Record<Context['profile']['name'], number> = { default: 40, quick: 12, tiny: 4 };

export const b10: Scenario = {
  id: 'B10',
  title: 'Scale-out: shared result store hit on a cold node vs a render; Redis Cluster vs one Redis',
  async run(ctx) {
    const store = await resultStoreHalf(ctx);
    const state = await sharedStateHalf(ctx);
    return {
      peers: 'a node without a result store rendering the same URLs (its own first requests); one Redis server for the same state operations',
      tables: [...store.tables, ...state.tables],
      goals: store.goals,
      charts: [],
      notes: [...store.notes, ...state.notes],
      data: { resultStore: store.data, sharedState: state.data },
    };
  },
};

interface Half {
  readonly tables: Table[];
  readonly goals: GoalResult[];
  readonly notes: string[];
  readonly data: unknown;
}

interface NodeRun {
  readonly run: ListRun;
  readonly counts: WorkerCounts;
}

async function resultStoreHalf(ctx: Context): Promise<Half> {
  const { photo, bytes } = await photoData(ctx);
  const n = THUMBS[ctx.profile.name];
  ctx.progress('B10: starting Swift s3api and three nodes (A, B with the result store, C without)');
  const nodes = await startResultStoreNodes(photo);
  const runs: Record<NodeName, NodeRun[]> = { A: [], B: [], C: [] };
  let startupMs = 0;
  try {
    startupMs = await curlStartupMs(`${nodes.base('C')}/healthz`);
    // Round 0 warms every node (connections, S3 clients, sharp) and is not counted.
    for (let rep = 0; rep <= ctx.profile.reps; rep++) {
      // Fresh sizes every round: the first request of each URL on every node (fit by width).
      const paths = Array.from({ length: rep === 0 ? 4 : n }, (_, i) => nodes.thumbPath(200 + rep * n + i, 4000));
      const measure = async (node: NodeName): Promise<NodeRun> => measureNode(nodes, node, paths, startupMs);
      const rendered = await measure('A');
      expect(rendered.counts.renders === paths.length && rendered.counts.store.write === paths.length, 'A renders and stores every result', rendered.counts);
      const order: NodeName[] = rep % 2 === 1 ? ['B', 'C'] : ['C', 'B'];
      const round: Partial<Record<NodeName, NodeRun>> = { A: rendered };
      for (const node of order) round[node] = await measure(node);
      const [hit, render] = [round.B as NodeRun, round.C as NodeRun];
      expect(hit.counts.renders === 0 && hit.counts.store.hit === paths.length, 'B answers every URL from the store without a render', hit.counts);
      expect(render.counts.renders === paths.length, 'C renders every URL', render.counts);
      if (rep === 0) continue;
      for (const node of ['A', 'B', 'C'] as const) runs[node].push(round[node] as NodeRun);
      ctx.progress(
        `B10 rep ${rep}/${ctx.profile.reps}: store hit ${hit.run.perSecond.toFixed(1)} img/s, render ${render.run.perSecond.toFixed(1)} img/s, render + store write ${rendered.run.perSecond.toFixed(1)} img/s`,
      );
    }
  } finally {
    await nodes.stop();
  }
  const rate = (node: NodeName): number => median(runs[node].map((r) => r.run.perSecond));
  const r = ratio(rate('B'), rate('C'));
  const total = (node: NodeName, pick: (c: WorkerCounts) => number | undefined): number => runs[node].reduce((sum, x) => sum + (pick(x.counts) ?? 0), 0);
  const row = (label: string, node: NodeName): string[] => [
    label,
    formatSpread(spread(runs[node].map((x) => x.run.perSecond)), 1),
    formatSpread(spread(runs[node].map((x) => percentile(x.run.latenciesMs, 50))), 1),
    formatSpread(spread(runs[node].map((x) => percentile(x.run.latenciesMs, 99))), 1),
    String(total(node, (c) => c.renders)),
    `${total(node, (c) => c.store.hit)} / ${total(node, (c) => c.store.miss)} / ${total(node, (c) => c.store.write)}`,
  ];
  return {
    tables: [
      {
        caption: `(a) ${n} distinct thumbnails (fit ~200–${200 + (ctx.profile.reps + 1) * n} px wide, JPEG) of a ${(bytes / 1e6).toFixed(1)} MB 4K JPEG on S3 (Swift s3api), each URL requested once per node; curl, ${PARALLEL} transfers at a time; median (min–max) of ${ctx.profile.reps} rounds, B and C alternating; worker counters summed over the rounds`,
        columns: ['node and path', 'img/s', 'p50 ms', 'p99 ms', 'worker renders', 'result store hit / miss / write'],
        rows: [
          row('B: result store hit (cold proxy_cache, no render)', 'B'),
          row('C: render (no result store)', 'C'),
          row('A: render + store write (before B and C)', 'A'),
        ],
      },
    ],
    goals: [atLeast('result store hit on a cold node ≥ 2× render img/s (a target, reported)', r, 2)],
    notes: [
      `(a) img/s = URLs ÷ the curl process's wall time less its start-up (${startupMs.toFixed(0)} ms, measured beside the runs); the per-URL p99 of ${n} requests is close to their maximum. Renders and store outcomes are the workers' own counters (sluice_worker_render_seconds_count, sluice_worker_result_store_total), checked every round: B rendered nothing, C rendered every URL.`,
      "(a) A store hit still costs the app's authorization and source stat (a HeadObject), the worker's lookup (a HeadObject and a presign) and nginx's GET of the stored object from S3; only the render is saved. A second request of the same URL on B would be a plain proxy_cache hit (B6).",
    ],
    data: { thumbnails: n, parallel: PARALLEL, curlStartupMs: startupMs, runs },
  };
}

async function measureNode(nodes: ResultStoreNodes, node: NodeName, paths: readonly string[], startupMs: number): Promise<NodeRun> {
  const before = await nodes.counts(node);
  const run = await requestEach(
    paths.map((p) => `${nodes.base(node)}${p}`),
    { parallel: PARALLEL, startupMs },
  );
  const failed = run.statuses.filter((s) => s !== 200);
  if (failed.length > 0) throw new Error(`B10: node ${node} answered ${failed.join(', ')}`);
  return { run, counts: countsSince(before, await nodes.counts(node)) };
}

function expect(holds: boolean, what: string, counts: WorkerCounts): void {
  if (!holds) throw new Error(`B10: expected "${what}", the worker counted ${JSON.stringify(counts)}`);
}

const KINDS = ['standalone', 'cluster'] as const;
type Kind = (typeof KINDS)[number];

interface StateRuns {
  readonly download: WrkResult[];
  readonly stateWork: LoopResult[];
  readonly take: LoopResult[];
}

async function sharedStateHalf(ctx: Context): Promise<Half> {
  const dir = await mkdtemp(path.join(ctx.workDir, 'redis-'));
  const started: { node: ShareLinkNode; topology: RedisTopology }[] = [];
  const runs: Record<Kind, StateRuns> = { standalone: { download: [], stateWork: [], take: [] }, cluster: { download: [], stateWork: [], take: [] } };
  // Shorter than the profile's wrk runs: B10 stays within about two minutes (30 s with --quick).
  const wrkSeconds = Math.min(ctx.profile.wrkSeconds, 4);
  const loopSeconds = ctx.profile.name === 'default' ? 1.5 : 0.5;
  try {
    ctx.progress('B10: starting one Redis and a Redis Cluster (3 primaries), a node on each');
    for (const kind of KINDS) started.push(await startShareLinkNode(kind, dir));
    const nodeOf = (kind: Kind): ShareLinkNode => (started.find((s) => s.node.kind === kind) as { node: ShareLinkNode }).node;
    const take =
      (kind: Kind) =>
      async (i: number): Promise<void> => {
        const direct = nodeOf(kind).direct;
        if (!(await direct.limiter.take(`link:${direct.links[i % direct.links.length]?.id}`)).allowed) throw new Error('B10: rate limited');
      };
    for (const kind of KINDS) {
      await wrk(nodeOf(kind).linkUrl, { connections: CONNECTIONS, seconds: 1 }); // warm-up
      await closedLoop((i) => linkDownloadState(nodeOf(kind).direct, i), CONNECTIONS, 0.5);
    }
    for (let rep = 1; rep <= ctx.profile.reps; rep++) {
      const order = rep % 2 === 1 ? KINDS : [...KINDS].reverse();
      for (const kind of order) {
        runs[kind].download.push(await wrk(nodeOf(kind).linkUrl, { connections: CONNECTIONS, seconds: wrkSeconds }));
        runs[kind].stateWork.push(await closedLoop((i) => linkDownloadState(nodeOf(kind).direct, i), CONNECTIONS, loopSeconds));
        runs[kind].take.push(await closedLoop(take(kind), CONNECTIONS, loopSeconds));
      }
      ctx.progress(
        `B10 rep ${rep}/${ctx.profile.reps}: share-link download ${KINDS.map((k) => `${k} ${runs[k].download.at(-1)?.rps.toFixed(0)}`).join(', ')} req/s; state work ${KINDS.map((k) => `${k} ${runs[k].stateWork.at(-1)?.perSecond.toFixed(0)}`).join(', ')} ops/s`,
      );
    }
  } finally {
    for (const { node, topology } of started) {
      node.direct.close();
      await node.stack.stop().catch(() => undefined);
      await topology.stop();
    }
  }
  type Sample = { rps?: number; perSecond?: number; p50Ms: number; p99Ms: number };
  const rows: string[][] = [];
  const add = (label: string, pick: (r: StateRuns) => Sample[], value: (s: Sample) => number, digits: number): void => {
    const [one, cluster] = KINDS.map((k) => pick(runs[k]).map(value));
    rows.push([
      label,
      formatSpread(spread(one as number[]), digits),
      formatSpread(spread(cluster as number[]), digits),
      ratio(median(cluster as number[]), median(one as number[])).toFixed(2),
    ]);
  };
  const throughput = (s: Sample): number => s.rps ?? s.perSecond ?? Number.NaN;
  for (const [what, short, unit, pick] of [
    ['counted share-link download via nginx', 'download', 'req/s', (r: StateRuns) => r.download],
    ['its state work alone: 4 GETs, token bucket, counted use', 'state work', 'ops/s', (r: StateRuns) => r.stateWork],
    ['token-bucket take alone', 'take', 'ops/s', (r: StateRuns) => r.take],
  ] as const) {
    add(`${what} (${unit})`, pick, throughput, 0);
    add(`${short} p50 ms`, pick, (s) => s.p50Ms, 2);
    add(`${short} p99 ms`, pick, (s) => s.p99Ms, 2);
  }
  const ratioOf = (pick: (r: StateRuns) => Sample[]): number =>
    ratio(median(pick(runs.cluster).map(throughput)), median(pick(runs.standalone).map(throughput)));
  return {
    tables: [
      {
        caption: `(b) shared state: a node (nginx + app) per topology, ${CONNECTIONS} connections (wrk, ${wrkSeconds} s per run) or ${CONNECTIONS} concurrent callers in this process (closed loop, ${loopSeconds} s per run); median (min–max) of ${ctx.profile.reps} interleaved runs`,
        columns: ['measurement', 'one Redis', 'Redis Cluster (3 primaries)', 'Cluster / one Redis'],
        rows,
      },
    ],
    goals: [],
    notes: [
      `(b) Cluster / one Redis: download ${ratioOf((r) => r.download).toFixed(2)}×, state work ${ratioOf((r) => r.stateWork).toFixed(2)}×, token bucket ${ratioOf((r) => r.take).toFixed(2)}× (throughput; reported, no goal).`,
      "(b) Every request of a counted, rate-limited share link minted through the share API touches Redis six times in four round trips: the link record, its revocation and the creator's revocations (three GETs at once), the creator token's revocation (a GET), the token bucket (a script) and the counted use (a script). The direct rows run the same calls through src/state (sharing state, rate limiter) over 64 links, so keys spread over the cluster's slots. The cluster has no replicas, so the counted use waits for no replica (WAIT is skipped, as on one server); with replicas each use adds a WAIT round trip.",
      '(b) The app runs in the benchmark process here (as in B5–B9), and so do the direct callers; nginx and Redis are their own processes.',
    ],
    data: { connections: CONNECTIONS, wrkSeconds, loopSeconds, runs },
  };
}
