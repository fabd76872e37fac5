// Real Redis topologies for tests, on free loopback ports, torn down by stop():
//   standalone: one redis-server (test/helpers/redis.ts);
//   cluster:    three primaries (--cluster-enabled, no replicas) joined by `redis-cli --cluster create`;
//   sentinel:   one primary, one replica and three sentinels watching them as "mymaster".
// Nothing persists (no RDB, no AOF); every file (cluster node tables, sentinel configs) lives in `dir`.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { connect } from 'node:net';
import { freePort } from './ports.js';
import { startRedis } from './redis.js';

export type RedisTopologyKind = 'standalone' | 'cluster' | 'sentinel';

/**
 * Roomier than the product defaults (1 s per command, 250 ms for a replica's WAIT confirmation):
 * on a loaded 2-core test machine a slow acknowledgement must not turn an expected 410 into a
 * 503. The guarantees under test do not depend on these bounds; fail-closed is tested with
 * Redis gone, where connections are refused at once.
 */
interface TestTimeouts {
  readonly commandTimeoutMs: number;
  readonly waitTimeoutMs: number;
}
const TEST_TIMEOUTS: TestTimeouts = { commandTimeoutMs: 5000, waitTimeoutMs: 3000 };

export interface RedisTopology {
  readonly kind: RedisTopologyKind;
  /** The value for the config's `redis` setting. */
  readonly settings: ({ url: string } | { sentinels: string[]; name: string } | { nodes: string[] }) & TestTimeouts;
  /** sentinel: make the replica the primary (SENTINEL FAILOVER) and resolve once sentinels report the new primary; other kinds: throw. */
  failover(): Promise<void>;
  stop(): Promise<void>;
}

const MASTER_NAME = 'mymaster';
const READY_TIMEOUT_MS = 20_000;
// No diskless-sync delay: Redis otherwise waits 5 s for more replicas before the first sync.
const BASE_ARGS = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning', '--repl-diskless-sync-delay', '0'];

export async function startRedisTopology(kind: RedisTopologyKind, dir: string): Promise<RedisTopology> {
  switch (kind) {
    case 'standalone':
      return startStandalone();
    case 'cluster':
      return startCluster(dir);
    case 'sentinel':
      return startSentinel(dir);
  }
}

async function startStandalone(): Promise<RedisTopology> {
  const server = await startRedis();
  return {
    kind: 'standalone',
    settings: { url: server.url, ...TEST_TIMEOUTS },
    failover: () => Promise.reject(new Error('a standalone Redis has no replica to fail over to')),
    stop: () => server.stop(),
  };
}

async function startCluster(dir: string): Promise<RedisTopology> {
  const processes: Process[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      // The bus port is set explicitly: the default (port + 10000) may be taken or beyond 65535.
      const [port, busPort] = [await freePort(), await freePort()];
      ports.push(port);
      processes.push(
        spawnServer('redis-server', [
          '--port',
          String(port),
          ...BASE_ARGS,
          '--dir',
          dir,
          '--cluster-enabled',
          'yes',
          '--cluster-port',
          String(busPort),
          '--cluster-config-file',
          `nodes-${port}.conf`,
          '--cluster-node-timeout',
          '2000',
        ]),
      );
    }
    await Promise.all(ports.map((port, i) => waitUntil(() => answers(port, 'PING', '+PONG'), `cluster node ${port}`, processes[i] as Process)));
    const nodes = ports.map((port) => `127.0.0.1:${port}`);
    await runCli(['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes']);
    await Promise.all(
      ports.map((port, i) =>
        waitUntil(async () => (await command(port, ['CLUSTER', 'INFO'])).includes('cluster_state:ok'), `cluster state ok on ${port}`, processes[i] as Process),
      ),
    );
    return {
      kind: 'cluster',
      settings: { nodes, ...TEST_TIMEOUTS },
      failover: () => Promise.reject(new Error('the test cluster has no replicas to fail over to')),
      stop: () => stopAll(processes),
    };
  } catch (error) {
    await stopAll(processes);
    throw error;
  }
}

async function startSentinel(dir: string): Promise<RedisTopology> {
  const processes: Process[] = [];
  try {
    const [primaryPort, replicaPort] = [await freePort(), await freePort()];
    const primary = spawnServer('redis-server', ['--port', String(primaryPort), ...BASE_ARGS, '--dir', dir]);
    processes.push(primary);
    await waitUntil(() => answers(primaryPort, 'PING', '+PONG'), 'sentinel primary', primary);
    const replica = spawnServer('redis-server', ['--port', String(replicaPort), ...BASE_ARGS, '--dir', dir, '--replicaof', '127.0.0.1', String(primaryPort)]);
    processes.push(replica);
    await waitUntil(async () => (await command(replicaPort, ['INFO', 'replication'])).includes('master_link_status:up'), 'replica in sync', replica);
    const sentinels = await Promise.all([0, 1, 2].map(async () => ({ port: await freePort(), id: randomBytes(20).toString('hex') })));
    const sentinelPorts = sentinels.map((sentinel) => sentinel.port);
    for (const { port, id } of sentinels) {
      // Sentinels rewrite their config file (discovered replicas and peers, epochs): one each, in
      // `dir`. Peers and the replica are declared up front, as a rewritten file would list them:
      // discovering them by hello messages and INFO polling takes several seconds.
      const file = path.join(dir, `sentinel-${port}.conf`);
      await writeFile(
        file,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel myid ${id}`,
          `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${primaryPort} 2`,
          `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
          `sentinel failover-timeout ${MASTER_NAME} 10000`,
          `sentinel parallel-syncs ${MASTER_NAME} 1`,
          `sentinel known-replica ${MASTER_NAME} 127.0.0.1 ${replicaPort}`,
          ...sentinels.filter((peer) => peer.port !== port).map((peer) => `sentinel known-sentinel ${MASTER_NAME} 127.0.0.1 ${peer.port} ${peer.id}`),
          '',
        ].join('\n'),
      );
      processes.push(spawnServer('redis-server', [file, '--sentinel', '--loglevel', 'warning']));
    }
    // Ready when every sentinel knows the replica (a failover needs one) and its two peers.
    await Promise.all(
      sentinelPorts.map((port, i) =>
        waitUntil(
          async () => {
            const replicas = await command(port, ['SENTINEL', 'REPLICAS', MASTER_NAME]);
            const master = await command(port, ['SENTINEL', 'MASTER', MASTER_NAME]);
            return replicas.includes(String(replicaPort)) && /num-other-sentinels\r\n\$1\r\n2\r\n/.test(master);
          },
          `sentinel ${port}`,
          processes[2 + i] as Process,
        ),
      ),
    );
    let current = { primary: primaryPort, replica: replicaPort };
    return {
      kind: 'sentinel',
      settings: { sentinels: sentinelPorts.map((port) => `127.0.0.1:${port}`), name: MASTER_NAME, ...TEST_TIMEOUTS },
      async failover() {
        const next = { primary: current.replica, replica: current.primary };
        // Refused (NOGOODSLAVE) until the sentinel has seen the replica in sync, by its own INFO
        // polling; right after start-up or a previous failover that can take a few seconds.
        let refusal = '';
        await waitUntil(async () => {
          const reply = await command(sentinelPorts[0] as number, ['SENTINEL', 'FAILOVER', MASTER_NAME]);
          refusal = reply.trim();
          return reply.startsWith('+OK');
        }, 'SENTINEL FAILOVER accepted').catch((error: Error) => {
          throw new Error(`${error.message}: ${refusal}`);
        });
        await Promise.all(
          sentinelPorts.map((port) =>
            waitUntil(
              async () => (await command(port, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME])).includes(`\r\n${next.primary}\r\n`),
              `sentinel ${port} reports the new primary`,
            ),
          ),
        );
        await waitUntil(async () => (await command(next.primary, ['ROLE'])).includes('master'), 'new primary takes writes');
        // Sentinel turns the old primary into a replica of the new one only after an 8 s grace
        // (SENTINEL_PUBLISH_PERIOD * 4); doing the same at once keeps tests fast, and leaves the
        // topology as Sentinel would: a primary with one replica in sync.
        await command(next.replica, ['REPLICAOF', '127.0.0.1', String(next.primary)]);
        await waitUntil(
          async () => (await command(next.replica, ['INFO', 'replication'])).includes('master_link_status:up'),
          'old primary replicates the new one',
        );
        current = next;
      },
      stop: () => stopAll(processes),
    };
  } catch (error) {
    await stopAll(processes);
    throw error;
  }
}

interface Process {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  stderr(): string;
}

function spawnServer(binary: string, args: string[]): Process {
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killNow = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killNow);
  exited.then(
    () => process.removeListener('exit', killNow),
    () => undefined,
  );
  return { child, exited, stderr: () => stderr };
}

async function stopAll(processes: readonly Process[]): Promise<void> {
  await Promise.all(
    processes.map(async ({ child, exited }) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }),
  );
}

function runCli(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`redis-cli ${args.join(' ')} failed (${code}): ${output}`))));
  });
}

/** Polls `check` (errors count as "not yet") until it holds; fails early when `process` exits. */
async function waitUntil(check: () => Promise<boolean>, what: string, process?: Process): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (process !== undefined && process.child.exitCode !== null) throw new Error(`${what}: the process exited: ${process.stderr()}`);
    if (Date.now() > deadline) throw new Error(`${what}: not ready within ${READY_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function answers(port: number, name: string, expected: string): Promise<boolean> {
  return (await command(port, [name])).startsWith(expected);
}

/** One command in RESP on a fresh connection; the raw reply (enough for the checks above). */
function command(port: number, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(reply);
    }, 1000);
    socket.once('connect', () => socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`));
    socket.on('data', (data) => {
      reply += data.toString();
      if (complete(reply)) {
        clearTimeout(timer);
        socket.destroy();
        resolve(reply);
      }
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Whether `reply` holds one whole RESP value (nested arrays included). */
function complete(reply: string): boolean {
  let index = 0;
  const value = (): boolean => {
    const end = reply.indexOf('\r\n', index);
    if (end === -1) return false;
    const type = reply[index];
    const header = reply.slice(index + 1, end);
    index = end + 2;
    if (type === '$') {
      const length = Number(header);
      if (length < 0) return true;
      if (Buffer.byteLength(reply.slice(index)) < length + 2) return false;
      index += length + 2; // bulk strings here are ASCII
      return true;
    }
    if (type === '*') {
      const count = Number(header);
      for (let i = 0; i < count; i += 1) if (!value()) return false;
      return true;
    }
    return true;
  };
  return value();
}
