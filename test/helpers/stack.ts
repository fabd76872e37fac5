// Starts the real thing for integration tests: the Sluice app in-process and a private nginx
// running the config rendered by Sluice's own renderer, on free loopback ports.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { validateConfig } from '../../src/config/load.js';
import type { SluiceConfig } from '../../src/config/schema.js';
import { startNginx, type NginxProcess } from '../../src/nginx/process.js';
import { writeNginxConfig } from '../../src/cli/nginx-files.js';
import { createLogger } from '../../src/observability/logger.js';
import { startSluice, type RunningSluice } from '../../src/server.js';
import { installedMimeTypes } from './nginx-mime.js';
import { freePort } from './ports.js';
import { startWorkerProcess, type WorkerProcess } from './worker.js';

export interface Stack {
  readonly config: SluiceConfig;
  readonly app: RunningSluice;
  readonly nginx: NginxProcess;
  /** The transform worker process, when started with `worker: true`. */
  readonly worker?: WorkerProcess;
  /** nginx's port: the one clients use. */
  readonly port: number;
  readonly dir: string;
  /** Parsed JSON log lines the app wrote. */
  logs(): Record<string, unknown>[];
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Extra nginx server directives (benchmark peers such as a plain static location). */
  readonly extraServerConfig?: string;
  readonly logLevel?: string;
  /** Also run `sluice worker` (a separate process, on a free port) for image transforms and encrypted stores. */
  readonly worker?: boolean;
  /** Master password handed to the worker on fd 3 (encryption.passwordFile: /dev/fd/3). */
  readonly workerPassword?: string;
  /** Include the installed nginx's mime.types in the http block, as operators' nginx.conf does. */
  readonly mimeTypes?: boolean;
  /** nginx's listen address (`host`); the app keeps its own `appHost` (loopback by default). */
  readonly host?: string;
}

export async function startStack(rawConfig: Record<string, unknown>, options: StackOptions = {}): Promise<Stack> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-stack-'));
  const port = await freePort();
  const workerSettings = options.worker ? { worker: { ...(rawConfig.worker as object | undefined), port: await freePort() } } : {};
  const settings = { ...rawConfig, host: options.host ?? '127.0.0.1', port, appPort: 0, ...workerSettings };
  const config = validateConfig(settings);
  const worker = options.worker
    ? await startWorkerProcess(settings, dir, { ...(options.workerPassword !== undefined && { password: options.workerPassword }) })
    : undefined;
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const app = await startSluice(config, { logger: createLogger(options.logLevel ?? 'info', sink) });
  const files = await writeNginxConfig(config, {
    outDir: path.join(dir, 'nginx'),
    appAddress: app.address,
    full: {
      runtimeDir: path.join(dir, 'nginx', 'run'),
      user: process.getuid?.() === 0 ? 'root' : undefined,
      extraServerConfig: options.extraServerConfig,
      ...(options.mimeTypes === true && { mimeTypesFile: await installedMimeTypes() }),
    },
  });
  let nginx: NginxProcess;
  try {
    nginx = await startNginx(files.fullConfigPath as string, files.runtimeDir as string, { host: config.host, port });
  } catch (error) {
    await app.close();
    await worker?.stop();
    throw error;
  }
  return {
    config,
    app,
    nginx,
    ...(worker !== undefined && { worker }),
    port,
    dir,
    logs: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    async stop() {
      await nginx.stop();
      await app.close();
      await worker?.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
