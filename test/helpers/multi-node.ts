// One Sluice "node" as a separate machine would run it: its own nginx (the rendered full config),
// its own app process (`sluice serve`) and its own worker process (`sluice worker`), on free
// loopback ports. Several nodes given the same stores and Redis settings form one deployment.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { validateConfig } from '../../src/config/load.js';
import { startNginx, type NginxProcess } from '../../src/nginx/process.js';
import { writeNginxConfig } from '../../src/cli/nginx-files.js';
import { spawnSluice, type SluiceProcess } from './cli-process.js';
import { request } from './http.js';
import { freePort } from './ports.js';
import { startWorkerProcess, type WorkerProcess } from './worker.js';

const APP_START_TIMEOUT_MS = 30_000;

export interface AppProcess {
  readonly pid: number;
  readonly port: number;
  /** What the app wrote (JSON log lines). */
  output(): string;
  /** SIGKILL, as a crash; resolves once the process is gone. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export interface SluiceNode {
  readonly name: string;
  /** nginx's port: the one clients use. */
  readonly port: number;
  readonly nginx: NginxProcess;
  readonly app: AppProcess;
  readonly worker: WorkerProcess;
  stop(): Promise<void>;
}

/**
 * Starts worker, app and nginx for `rawConfig` (without host/port/appPort/worker.port, which
 * are picked here) in `dir`, which must not exist yet and is removed by stop().
 */
export async function startNode(name: string, rawConfig: Record<string, unknown>, dir: string): Promise<SluiceNode> {
  await mkdir(dir, { recursive: true });
  const [port, appPort, workerPort] = [await freePort(), await freePort(), await freePort()];
  const settings = {
    ...rawConfig,
    host: '127.0.0.1',
    port,
    appHost: '127.0.0.1',
    appPort,
    worker: { ...(rawConfig.worker as object | undefined), port: workerPort },
  };
  const config = validateConfig(settings);
  const started: { stop(): Promise<void> }[] = [];
  try {
    const [worker, app] = await Promise.all([startWorkerProcess(settings, dir), startApp(settings, dir, appPort)]);
    started.push(worker, app);
    const files = await writeNginxConfig(config, {
      outDir: path.join(dir, 'nginx'),
      appAddress: `127.0.0.1:${appPort}`,
      full: { runtimeDir: path.join(dir, 'nginx', 'run'), user: process.getuid?.() === 0 ? 'root' : undefined },
    });
    const nginx = await startNginx(files.fullConfigPath as string, files.runtimeDir as string, { host: '127.0.0.1', port });
    return {
      name,
      port,
      nginx,
      app,
      worker,
      async stop() {
        await nginx.stop();
        await Promise.all([app.stop(), worker.stop()]);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await Promise.all(started.map((p) => p.stop()));
    throw error;
  }
}

/** `sluice serve` with the settings written to a file in `dir`; ready once /healthz answers. */
async function startApp(settings: Record<string, unknown>, dir: string, port: number): Promise<AppProcess> {
  const configFile = path.join(dir, 'app-config.json');
  await writeFile(configFile, JSON.stringify(settings));
  const proc: SluiceProcess = spawnSluice(['serve'], { SLUICE_CONFIG: configFile });
  const gone = (): boolean => proc.child.exitCode !== null || proc.child.signalCode !== null;
  const killNow = (): void => {
    if (!gone()) proc.child.kill('SIGKILL');
  };
  process.once('exit', killNow);
  const deadline = Date.now() + APP_START_TIMEOUT_MS;
  while (
    !(await request(port, '/healthz').then(
      (r) => r.status === 200,
      () => false,
    ))
  ) {
    if (gone() || Date.now() > deadline) {
      killNow();
      throw new Error(`sluice serve did not start on port ${port}:\n${proc.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    pid: proc.child.pid as number,
    port,
    output: proc.output,
    async kill() {
      process.removeListener('exit', killNow);
      killNow();
      await proc.exited;
    },
    async stop() {
      process.removeListener('exit', killNow);
      if (gone()) return;
      proc.child.kill('SIGTERM');
      const timer = setTimeout(killNow, 5000);
      await proc.exited;
      clearTimeout(timer);
    },
  };
}
