/**
 * A real, signature-checking S3 endpoint for integration tests: OpenStack
 * Swift (Debian's python3-swift) with the s3api + tempauth middlewares, on
 * loopback, on free ports, in a throw-away directory.
 *
 *   const server = await startSwiftS3();
 *   const s3 = s3ClientFor(server);
 *   ...
 *   await server.stop();
 *
 * Processes: one memcached and one launcher (test/helpers/swift/launch.py),
 * each in its own process group. The launcher runs the proxy, account,
 * container and object servers as children in *its* process group, so
 * signalling the two groups reaches everything that was started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort } from './ports.js';

export interface S3TestServer {
  /** e.g. http://127.0.0.1:PORT (path-style addressing) */
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** throw-away directory holding configs, rings, data and logs */
  dir: string;
  /** all server logs concatenated (still available after stop()) */
  logs(): string;
  /** kills every process started for this server and removes `dir`; idempotent */
  stop(): Promise<void>;
}

/** Debian's python3-swift lives in the system interpreter, not a venv's. */
const PYTHON = '/usr/bin/python3';
const MEMCACHED = 'memcached';
const LAUNCHER = fileURLToPath(new URL('./swift/launch.py', import.meta.url));

const REGION = 'us-east-1';
/** tempauth `user_test_tester = testing .admin` → S3 key `test:tester` / `testing` */
const ACCESS_KEY_ID = 'test:tester';
const SECRET_ACCESS_KEY = 'testing';

const START_TIMEOUT_MS = 40_000;
const STOP_GRACE_MS = 5_000;
const START_ATTEMPTS = 2;

/** The endpoint and credentials of an s3 store on this test server (spread into a store's settings). */
export function s3StoreAccess(server: S3TestServer): { endpoint: string; forcePathStyle: true; accessKeyId: string; secretAccessKey: string } {
  return { endpoint: server.endpoint, forcePathStyle: true, accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey };
}

export function s3ClientFor(server: S3TestServer): S3Client {
  return new S3Client({
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    credentials: {
      accessKeyId: server.accessKeyId,
      secretAccessKey: server.secretAccessKey,
    },
  });
}

export async function startSwiftS3(): Promise<S3TestServer> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    try {
      return await startOnce();
    } catch (err) {
      lastError = err;
      // free ports are picked by bind-then-close, so another process may
      // grab one before Swift binds it; only that case is worth a retry
      if (!(err instanceof StartError) || !err.addressInUse) throw err;
    }
  }
  throw lastError;
}

// ---------------------------------------------------------------------------

class StartError extends Error {
  constructor(
    message: string,
    readonly addressInUse: boolean,
  ) {
    super(message);
    this.name = 'StartError';
  }
}

interface Proc {
  name: string;
  child: ChildProcess;
  /** process group id (= pid, the child is spawned detached) */
  pgid: number;
  exited: boolean;
  exitStatus: string;
  whenExited: Promise<void>;
}

/** Process groups (and their directories) not yet stopped, for the exit hook. */
const live = new Map<number, string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: SIGKILL the groups, drop the dirs.
  process.on('exit', () => {
    const dirs = new Set<string>();
    for (const [pgid, dir] of live) {
      signalGroup(pgid, 'SIGKILL');
      dirs.add(dir);
    }
    live.clear();
    for (const dir of dirs) {
      try {
        fs.rmSync(dir, { recursive: true, force: true });
      } catch {
        // best effort
      }
    }
  });
}

function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EPERM') return true;
    return false; // ESRCH: the group is empty
  }
}

function spawnLogged(name: string, command: string, args: string[], dir: string, logFile: string): Proc {
  const fd = fs.openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, args, {
      cwd: dir,
      detached: true, // own process group, so we can signal -pgid
      stdio: ['ignore', fd, fd],
    });
  } finally {
    fs.closeSync(fd);
  }
  // Never keep the test process alive because of these; the exit hook and
  // the launcher's watchdog take care of them if stop() is never called.
  child.unref();

  const proc: Proc = {
    name,
    child,
    pgid: child.pid ?? -1,
    exited: false,
    exitStatus: '',
    whenExited: Promise.resolve(),
  };
  proc.whenExited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      proc.exited = true;
      proc.exitStatus = signal ? `signal ${signal}` : `code ${code}`;
      resolve();
    });
    child.once('error', (err) => {
      // spawn failure (e.g. ENOENT): there is no process to wait for
      proc.exited = true;
      proc.exitStatus = `spawn error: ${err.message}`;
      fs.appendFileSync(logFile, `failed to start ${command}: ${err.message}\n`);
      resolve();
    });
  });
  if (child.pid !== undefined) live.set(child.pid, dir);
  return proc;
}

async function stopProc(proc: Proc): Promise<void> {
  if (proc.pgid <= 0) return;
  const groupGone = async (ms: number): Promise<boolean> => {
    const deadline = Date.now() + ms;
    await within(proc.whenExited, ms);
    // The direct child is reaped by node; its children (the Swift servers)
    // are reaped by the launcher before it exits, or die with it.
    while (signalGroup(proc.pgid, 0)) {
      if (Date.now() >= deadline) return false;
      await sleep(25);
    }
    return true;
  };

  if (signalGroup(proc.pgid, 'SIGTERM') && !(await groupGone(STOP_GRACE_MS))) {
    signalGroup(proc.pgid, 'SIGKILL');
    await groupGone(STOP_GRACE_MS);
  }
  await within(proc.whenExited, STOP_GRACE_MS);
  live.delete(proc.pgid);
}

function readLogs(dir: string, tailLines?: number): string {
  const logDir = path.join(dir, 'logs');
  let files: string[];
  try {
    files = fs.readdirSync(logDir).filter((f) => f.endsWith('.log'));
  } catch {
    return '';
  }
  const order = ['launcher.log', 'memcached.log', 'proxy.log', 'account.log', 'container.log', 'object.log'];
  files.sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99) || a.localeCompare(b));
  return files
    .map((f) => {
      let text = '';
      try {
        text = fs.readFileSync(path.join(logDir, f), 'utf8');
      } catch {
        // vanished
      }
      if (tailLines !== undefined) {
        const lines = text.trimEnd().split('\n');
        text = `${(lines.length > tailLines ? ['…', ...lines.slice(-tailLines)] : lines).join('\n')}\n`;
      }
      return `==> ${f} <==\n${text}`;
    })
    .join('\n');
}

async function distinctFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits for `promise` or `ms`, whichever comes first, leaving no timer behind. */
async function within(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([promise, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

async function startOnce(): Promise<S3TestServer> {
  installExitHook();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-swift-'));
  const logDir = path.join(dir, 'logs');
  fs.mkdirSync(logDir);

  const [proxyPort, accountPort, containerPort, objectPort, memcachedPort] = (await distinctFreePorts(5)) as [number, number, number, number, number];

  const procs: Proc[] = [];
  let stopped: Promise<void> | undefined;
  let finalLogs: string | undefined;

  const server: S3TestServer = {
    endpoint: `http://127.0.0.1:${proxyPort}`,
    region: REGION,
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET_ACCESS_KEY,
    dir,
    logs: () => finalLogs ?? readLogs(dir),
    stop: () => {
      stopped ??= (async () => {
        await Promise.all(procs.map(stopProc));
        finalLogs = readLogs(dir);
        await rm(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };

  const fail = async (why: string): Promise<never> => {
    const tail = readLogs(dir, 40);
    await server.stop();
    throw new StartError(
      `Swift S3 test server failed to start: ${why}\n--- log tail ---\n${tail}`,
      /could not bind|address already in use|EADDRINUSE|failed to listen/i.test(tail),
    );
  };

  const memcachedArgs = ['-l', '127.0.0.1', '-p', String(memcachedPort), '-U', '0', '-m', '16'];
  if (process.getuid?.() === 0) memcachedArgs.push('-u', 'root');
  const memcached = spawnLogged('memcached', MEMCACHED, memcachedArgs, dir, path.join(logDir, 'memcached.log'));
  procs.push(memcached);

  const launcher = spawnLogged(
    'launcher',
    PYTHON,
    [
      '-I', // isolated: ignore PYTHONPATH & co. and the user site (e.g. a venv's)
      '-B',
      LAUNCHER,
      'start',
      dir,
      String(proxyPort),
      String(accountPort),
      String(containerPort),
      String(objectPort),
      String(memcachedPort),
      '--watch-pid',
      String(process.pid),
      '--memcached-pid',
      String(memcached.pgid),
    ],
    dir,
    path.join(logDir, 'launcher.log'),
  );
  procs.push(launcher);

  const readyFile = path.join(dir, 'ready');
  const probe = new S3Client({
    endpoint: server.endpoint,
    region: REGION,
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY },
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  let lastProbeError = 'launcher has not reported ready yet';
  try {
    for (;;) {
      for (const p of procs) {
        if (p.exited) return await fail(`${p.name} exited early (${p.exitStatus})`);
      }
      if (Date.now() > deadline) {
        return await fail(`not ready after ${START_TIMEOUT_MS / 1000}s (last probe: ${lastProbeError})`);
      }
      if (fs.existsSync(readyFile)) {
        try {
          await probe.send(new ListBucketsCommand({}), { abortSignal: AbortSignal.timeout(2_000) });
          return server;
        } catch (err) {
          lastProbeError = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        }
      }
      await sleep(100);
    }
  } finally {
    probe.destroy();
  }
}
