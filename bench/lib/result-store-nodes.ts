// Three Sluice nodes on one S3 (Swift s3api) for B10: A and B share a result store
// (`transform.resultStore` on S3), C has none. Each node is its own nginx (its own proxy_cache),
// app and worker process, as in result-store.test.ts. The source is the 4K photo, uploaded once.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { request } from '../../test/helpers/http.js';
import { startStack, type Stack } from '../../test/helpers/stack.js';
import { s3ClientFor, startSwiftS3, type S3TestServer } from '../../test/helpers/swift.js';
import { signImgproxyPath } from '../../test/helpers/worker.js';

const KEY = Buffer.from('b10-result-store-key').toString('hex');
const SALT = Buffer.from('b10-result-store-salt').toString('hex');
const MEDIA = 'b10-media';
const RESULTS = 'b10-results';
const SOURCE = 'photo-4k.jpg';

export type NodeName = 'A' | 'B' | 'C';

/** The worker's own counters (its /metrics): what it did, not what the client saw. */
export interface WorkerCounts {
  readonly renders: number;
  readonly requests: number;
  /** sluice_worker_result_store_total by outcome (hit, miss, write, error, skipped). */
  readonly store: Readonly<Record<string, number>>;
}

export interface ResultStoreNodes {
  readonly s3: S3TestServer;
  base(node: NodeName): string;
  /** A signed imgproxy URL path: the source fit into width×height, JPEG. */
  thumbPath(width: number, height: number): string;
  counts(node: NodeName): Promise<WorkerCounts>;
  stop(): Promise<void>;
}

export async function startResultStoreNodes(photoFile: string): Promise<ResultStoreNodes> {
  const s3 = await startSwiftS3();
  const stacks = new Map<NodeName, Stack>();
  const stop = async (): Promise<void> => {
    for (const stack of stacks.values()) await stack.stop().catch(() => undefined);
    await s3.stop();
  };
  try {
    const client = s3ClientFor(s3);
    try {
      await client.send(new CreateBucketCommand({ Bucket: MEDIA }));
      await client.send(new CreateBucketCommand({ Bucket: RESULTS }));
      await client.send(new PutObjectCommand({ Bucket: MEDIA, Key: SOURCE, Body: await readFile(photoFile), ContentType: 'image/jpeg' }));
    } finally {
      client.destroy();
    }
    const s3Store = { type: 's3', endpoint: s3.endpoint, forcePathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey };
    const config = (withStore: boolean): Record<string, unknown> => ({
      stores: { media: { ...s3Store, bucket: MEDIA }, results: { ...s3Store, bucket: RESULTS } },
      transform: { enabled: true, keys: [KEY], salts: [SALT], ...(withStore && { resultStore: { store: 'results', prefix: 'results/' } }) },
      // One load generator stands for many users (as in image-stack.ts): per-client limits lifted.
      worker: {
        secret: 'bench-worker-secret-0123456789abcdef0123',
        clientConcurrency: os.availableParallelism(),
        renderBudget: { rendersPerSecond: 10_000, burst: 100_000 },
      },
    });
    // One after another: three worker processes starting at once is a lot for a small machine.
    for (const [name, withStore] of [
      ['A', true],
      ['B', true],
      ['C', false],
    ] as const) {
      stacks.set(name, await startStack(config(withStore), { worker: true, logLevel: 'warn' }));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const stackOf = (node: NodeName): Stack => stacks.get(node) as Stack;
  return {
    s3,
    base: (node) => `http://127.0.0.1:${stackOf(node).port}`,
    thumbPath: (width, height) => `/img${signImgproxyPath(`/rs:fit:${width}:${height}/plain/s3://${MEDIA}/${SOURCE}@jpg`, KEY, SALT)}`,
    async counts(node) {
      const worker = stackOf(node).worker;
      if (worker === undefined) throw new Error(`node ${node} has no worker`);
      const text = (await request(worker.port, '/metrics')).text();
      const store: Record<string, number> = {};
      for (const match of text.matchAll(/^sluice_worker_result_store_total\{[^}]*outcome="([a-z]+)"[^}]*\} (\d+)$/gm)) {
        store[match[1] as string] = (store[match[1] as string] ?? 0) + Number(match[2]);
      }
      return { renders: await worker.renders(), requests: await worker.renderRequests(), store };
    },
    stop,
  };
}

/** b − a, counter by counter. */
export function countsSince(a: WorkerCounts, b: WorkerCounts): WorkerCounts {
  const store: Record<string, number> = {};
  for (const outcome of new Set([...Object.keys(a.store), ...Object.keys(b.store)])) store[outcome] = (b.store[outcome] ?? 0) - (a.store[outcome] ?? 0);
  return { renders: b.renders - a.renders, requests: b.requests - a.requests, store };
}
