// For B10's shared-state half: one Sluice node (nginx + app) per Redis topology, each with a
// counted, rate-limited share link minted through the share API — the download whose every
// request touches Redis — and, beside it, the same state operations called directly in this
// process (src/state through the sharing state and the rate limiter), closed loop.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createLogger } from '../../src/observability/logger.js';
import { createRateLimiter } from '../../src/ratelimit/create.js';
import type { RateLimiter } from '../../src/ratelimit/types.js';
import { createSharingState } from '../../src/sharing/kv-state.js';
import type { SharingState } from '../../src/sharing/state.js';
import { openSharedState, type SharedState } from '../../src/state/shared-state.js';
import { startRedisTopology, type RedisTopology, type RedisTopologyKind } from '../../test/helpers/redis-topology.js';
import { startStack, type Stack } from '../../test/helpers/stack.js';
import { bearer, testAuthConfig } from '../../test/helpers/tokens.js';
import { percentile } from './stats.js';

const LINK_KEY = { kid: 'b10', secret: 'b10-share-link-secret-0123456789abcdef' };
const FILE = 'small-10k.bin';
/** Never reached in a run: the rate limit and the count are checked, not hit. */
const RATE = { requestsPerSecond: 100_000, burst: 1_000_000 };
const MAX_DOWNLOADS = 1_000_000;

export interface ShareLinkNode {
  readonly kind: RedisTopologyKind;
  /** A counted share link (GET through nginx): link checks, token bucket, counted use. */
  readonly linkUrl: string;
  readonly stack: Stack;
  /** The same node's state, opened again in this process for the direct measurement. */
  readonly direct: DirectState;
}

export interface DirectState {
  readonly sharing: SharingState;
  readonly limiter: RateLimiter;
  readonly links: readonly { readonly id: string; readonly issuedAt: number; readonly expiresAt: number }[];
  close(): void;
}

export interface LoopResult {
  readonly operations: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export async function startShareLinkNode(kind: RedisTopologyKind, dir: string): Promise<{ node: ShareLinkNode; topology: RedisTopology }> {
  const root = path.join(dir, `${kind}-store`);
  await mkdir(root, { recursive: true });
  await writeFile(path.join(root, FILE), Buffer.alloc(10_000, 7));
  const topology = await startRedisTopology(kind, dir);
  let stack: Stack | undefined;
  let state: SharedState | undefined;
  try {
    stack = await startStack(
      {
        stores: { docs: { type: 'fs', root } },
        auth: testAuthConfig,
        rules: [{ id: 'signed-in', store: 'docs', key: '*path', actions: ['read', 'head', 'share'], when: [{ authenticated: true }] }],
        sharing: { keys: [LINK_KEY], rateLimit: RATE },
        redis: topology.settings,
      },
      { logLevel: 'warn' },
    );
    // A creator token with a jti: each use of the link also checks that token's revocation.
    const creator = await bearer('bench', { jti: `b10-${kind}` });
    const res = await fetch(`http://${stack.app.address}/files/_share`, {
      method: 'POST',
      headers: { ...creator, 'Content-Type': 'application/json' },
      body: JSON.stringify({ store: 'docs', key: FILE, expiresIn: 3600, maxDownloads: MAX_DOWNLOADS }),
    });
    const minted = (await res.json()) as { url?: string };
    if (res.status !== 201 || minted.url === undefined) throw new Error(`B10: minting a share link on ${kind}: HTTP ${res.status} ${JSON.stringify(minted)}`);
    state = await openSharedState(stack.config, createLogger('silent'));
    const direct = await directState(state, kind);
    return { node: { kind, linkUrl: `http://127.0.0.1:${stack.port}${minted.url}`, stack, direct }, topology };
  } catch (error) {
    state?.close();
    await stack?.stop();
    await topology.stop();
    throw error;
  }
}

/** Link records like the share API writes, spread over many ids (so over the cluster's slots). */
async function directState(state: SharedState, kind: string): Promise<DirectState> {
  const sharing = createSharingState(state);
  const now = Math.floor(Date.now() / 1000);
  const links = Array.from({ length: 64 }, (_, i) => ({ id: `b10-direct-${kind}-${i}`, issuedAt: now, expiresAt: now + 3600 }));
  for (const link of links)
    await sharing.recordLink(link.id, { createdBy: 'bench', expiresAt: link.expiresAt, claims: { sub: 'bench', jti: `b10-direct-${kind}` } });
  return { sharing, limiter: createRateLimiter(RATE, state), links, close: () => state.close() };
}

/** The state work of one counted share-link download, as the app does it (authenticator, rate limit, counted use). */
export async function linkDownloadState(direct: DirectState, n: number): Promise<void> {
  const link = direct.links[n % direct.links.length] as DirectState['links'][number];
  const standing = await direct.sharing.linkStanding({ id: link.id, createdBy: 'bench', issuedAt: link.issuedAt });
  if (standing.status !== 'in-force') throw new Error(`B10: link ${link.id} is ${standing.status}`);
  if (!(await direct.limiter.take(`link:${link.id}`)).allowed) throw new Error('B10: rate limited');
  if (!(await direct.sharing.countDownload(link.id, MAX_DOWNLOADS * 1000, link.expiresAt))) throw new Error('B10: link used up');
}

/** `concurrency` callers, each running `operation` back to back for `seconds`; latency per call. */
export async function closedLoop(operation: (n: number) => Promise<void>, concurrency: number, seconds: number): Promise<LoopResult> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        await operation(next++);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return {
    operations: latencies.length,
    seconds: elapsed,
    perSecond: latencies.length / elapsed,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}
