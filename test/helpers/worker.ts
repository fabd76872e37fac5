// Runs `sluice worker` as a separate process, as in production (own heap, MALLOC_ARENA_MAX=2),
// with the given raw config written to a file, on a free loopback port. Also signs imgproxy
// paths the way a host application would.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { feedDescriptors } from './cli-process.js';
import { request } from './http.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const START_TIMEOUT_MS = 20_000;

export interface WorkerProcess {
  readonly pid: number;
  readonly port: number;
  /** Render requests that reached the worker so far (its own Prometheus counter). */
  renderRequests(): Promise<number>;
  /** Images the worker actually rendered (its `sluice_worker_render_seconds` histogram count). */
  renders(): Promise<number>;
  /** What the worker wrote (JSON log lines and anything else). */
  output(): string;
  /** SIGKILL, as a crash: no drain, no shutdown hooks; resolves once the process is gone. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export interface WorkerProcessOptions {
  /** The keyring's master password, written to the worker's fd 3 (config: passwordFile /dev/fd/3). */
  readonly password?: string;
  /** More environment variables for the worker (e.g. an imgproxy env file's IMGPROXY_* variables). */
  readonly env?: Readonly<Record<string, string>>;
}

/** `rawConfig` must already carry worker.port; the config file goes into `dir`. */
export async function startWorkerProcess(rawConfig: Record<string, unknown>, dir: string, options: WorkerProcessOptions = {}): Promise<WorkerProcess> {
  const port = (rawConfig.worker as { port?: unknown } | undefined)?.port;
  if (typeof port !== 'number') throw new Error('startWorkerProcess: rawConfig.worker.port must be set');
  const configFile = path.join(dir, 'worker-config.json');
  await writeFile(configFile, JSON.stringify(rawConfig));
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'src', 'cli', 'main.ts'), 'worker'], {
    cwd: REPO,
    env: { ...options.env, PATH: process.env.PATH, HOME: process.env.HOME, SLUICE_CONFIG: configFile, MALLOC_ARENA_MAX: '2' },
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  // A pipe, as in production: the password never rests in a file.
  feedDescriptors(child, [options.password ?? '']);
  let output = '';
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-200_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', kill);

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sluice worker exited during start-up:\n${output}`);
    const ready = await request(port, '/healthz').then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      kill();
      throw new Error(`sluice worker not ready on port ${port}:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  return {
    pid: child.pid as number,
    port,
    async renderRequests() {
      const metrics = (await request(port, '/metrics')).text();
      let total = 0;
      for (const match of metrics.matchAll(/^sluice_worker_requests_total\{[^}]*\} (\d+)$/gm)) total += Number(match[1]);
      return total;
    },
    async renders() {
      const metrics = (await request(port, '/metrics')).text();
      let total = 0;
      for (const match of metrics.matchAll(/^sluice_worker_render_seconds_count(?:\{[^}]*\})? (\d+)$/gm)) total += Number(match[1]);
      return total;
    },
    output: () => output,
    async kill() {
      process.removeListener('exit', kill);
      kill();
      await exited;
    },
    async stop() {
      process.removeListener('exit', kill);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(kill, 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Signs an imgproxy path the way a host application does (imgproxy's documented algorithm,
 * written out here independently of Sluice's verifier): `/<sig><path>`.
 */
export function signImgproxyPath(pathAfterSignature: string, keyHex: string, saltHex: string): string {
  const mac = createHmac('sha256', Buffer.from(keyHex, 'hex'));
  mac.update(Buffer.from(saltHex, 'hex'));
  mac.update(pathAfterSignature);
  return `/${mac.digest('base64url')}${pathAfterSignature}`;
}
