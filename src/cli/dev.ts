// `sluice dev` (what `npm start` runs): the embedded default. nginx + the app on 127.0.0.1 with
// an fs store under ./data seeded with sample files, and a ready line with a working curl.
// `--demo` adds the demo host app (examples/demo) behind the same nginx, the image worker,
// transforms and share links.
import { createHmac, randomBytes } from 'node:crypto';
import net from 'node:net';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { mintToken } from '../auth/mint.js';
import { loadConfig } from '../config/load.js';
import { startNginx } from '../nginx/process.js';
import { writeNginxConfig } from '../nginx/write.js';
import { startSluice } from '../server.js';
import { seedDemoFiles } from './dev-seed.js';
import { onShutdownSignal } from './signals.js';

export function devCommand(): Command {
  return new Command('dev')
    .description('start nginx + Sluice locally with a seeded fs store under ./data (the embedded default)')
    .option('--data <dir>', 'data directory', 'data')
    .option('--state <dir>', 'generated nginx config, pid and the development secret', '.sluice')
    .option('--demo', 'also run the demo host app (examples/demo), the image worker, transforms and share links')
    .action(async (options: { data: string; state: string; demo?: boolean }) => {
      const dataDir = path.resolve(options.data);
      const stateDir = path.resolve(options.state);
      const secret = process.env.SLUICE_JWT_SECRET ?? (await devSecret(stateDir));
      const demo = options.demo === true ? await prepareDemo(path.join(dataDir, 'demo'), secret) : undefined;
      const defaults = {
        appPort: 0,
        stores: { demo: { type: 'fs', root: path.join(dataDir, 'demo') } },
        auth: { keys: [{ algorithms: ['HS256'], secret }] },
        // Development rule: any holder of a valid token may read the demo store.
        rules: [{ id: 'dev-authenticated', store: 'demo', key: '*path', when: [{ authenticated: true }] }],
      };
      const config = loadConfig({ defaults: demo === undefined ? defaults : { ...defaults, ...demo.config } });
      const demoRoot = config.stores.demo?.type === 'fs' ? config.stores.demo.root : undefined;
      const samples = demoRoot !== undefined ? await seedDemoFiles(demoRoot) : [];

      const worker = demo === undefined ? undefined : await startWorkerInProcess(config);
      const app = await startSluice(config);
      const nginxFiles = await writeNginxConfig(config, {
        outDir: path.join(stateDir, 'nginx'),
        appAddress: app.address,
        full: {
          runtimeDir: path.join(stateDir, 'nginx', 'run'),
          user: workerUser(),
          ...(demo === undefined ? {} : { extraServerConfig: demo.nginxLocations }),
        },
      });
      const nginx = await startNginx(nginxFiles.fullConfigPath as string, nginxFiles.runtimeDir as string, {
        host: config.host,
        port: config.port,
      }).catch(async (error: unknown) => {
        await app.close();
        await worker?.close();
        throw error;
      });
      const demoApp = demo === undefined ? undefined : await demo.start(`http://${config.host}:${config.port}`);
      let stopping = false;
      onShutdownSignal(async () => {
        stopping = true;
        await nginx.stop();
        await demoApp?.close();
        await app.close();
        await worker?.close();
      });
      void nginx.exited.then(async (code) => {
        if (stopping) return;
        process.stderr.write(`sluice: nginx exited (code ${String(code)}):\n${nginx.stderr()}\n`);
        await demoApp?.close();
        await app.close();
        await worker?.close();
        process.exit(1);
      });

      const token = await mintToken({ secret, sub: 'dev', ttlSeconds: 24 * 3600 });
      const base = `http://${config.host}:${config.port}${config.prefix}/demo`;
      const sample = samples[0] ?? 'hello.txt';
      process.stdout.write(
        [
          '',
          `Sluice is ready on http://${config.host}:${config.port} (nginx) → app ${app.address}; store "demo" = ${demoRoot ?? '(configured)'}`,
          'Download a file with a development token (valid 24 h):',
          `  curl -fsS -H 'Authorization: Bearer ${token}' '${base}/${encodeURIComponent(sample)}'`,
          `Other samples: ${samples.map((s) => `${base}/${encodeURIComponent(s)}`).join('  ')}`,
          `Mint another token: SLUICE_JWT_SECRET=$(cat ${path.relative(process.cwd(), path.join(stateDir, 'dev-jwt-secret'))}) npm run sluice -- token --sub alice   ·   Stop: Ctrl-C`,
          ...(demoApp === undefined ? [] : [`Demo host app: http://${config.host}:${config.port}/  (log in as alice / alice-demo or bob / bob-demo)`]),
          '',
        ].join('\n'),
      );
    });
}

/** A per-checkout random secret, so development tokens survive restarts but are never shared. */
async function devSecret(stateDir: string): Promise<string> {
  const file = path.join(stateDir, 'dev-jwt-secret');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const secret = randomBytes(32).toString('hex');
    await mkdir(stateDir, { recursive: true });
    await writeFile(file, `${secret}\n`, { mode: 0o600 });
    return secret;
  }
}

/** nginx workers run as "nobody" under a root master; keep the caller's user so ./data is readable. */
function workerUser(): string | undefined {
  return process.getuid?.() === 0 ? os.userInfo().username : undefined;
}

/** What examples/demo exports (loaded at run time: the demo is TypeScript outside src/). */
interface DemoModule {
  demoSluiceConfig(root: string, secrets: DemoSecrets): Record<string, unknown>;
  demoNginxLocations(demoAddress: string): string;
  seedDemoStore(root: string): Promise<void>;
  startDemoApp(options: { secrets: DemoSecrets; sluiceUrl: string; sluiceApi: string; host: string; port: number }): Promise<{ close(): Promise<void> }>;
}

interface DemoSecrets {
  readonly jwtSecret: string;
  readonly shareSecret: string;
  readonly imgproxyKey: string;
  readonly imgproxySalt: string;
  readonly workerSecret: string;
}

interface PreparedDemo {
  readonly config: Record<string, unknown>;
  readonly nginxLocations: string;
  start(sluiceApi: string): Promise<{ close(): Promise<void> }>;
}

const DEMO_ENTRY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'demo', 'index.ts');

/** Seeds the demo's files into the store root and settles its config, secrets and port. */
async function prepareDemo(root: string, devSecret: string): Promise<PreparedDemo> {
  // The demo is TypeScript outside the build: load it through tsx (a dev dependency, as for `npm start`).
  const { register } = await import('tsx/esm/api');
  register();
  const demo = (await import(pathToFileURL(DEMO_ENTRY).href)) as DemoModule;
  // Derived from the per-checkout development secret: stable across restarts, never shared.
  const derive = (label: string, bytes: number): string => createHmac('sha256', devSecret).update(label).digest('hex').slice(0, bytes * 2);
  const secrets: DemoSecrets = { jwtSecret: devSecret, shareSecret: derive('share', 32), imgproxyKey: derive('imgproxy-key', 32), imgproxySalt: derive('imgproxy-salt', 16), workerSecret: derive('worker', 32) };
  await demo.seedDemoStore(root);
  const [demoPort, workerPort] = [await loopbackPort(), await loopbackPort()];
  const config = demo.demoSluiceConfig(root, secrets);
  const rules = [...(config.rules as unknown[]), { id: 'dev-samples', store: 'demo', key: ':name', when: [{ authenticated: true }] }];
  return {
    config: { ...config, rules, worker: { ...(config.worker as object), port: workerPort } },
    nginxLocations: demo.demoNginxLocations(`127.0.0.1:${demoPort}`),
    start: (sluiceApi) => demo.startDemoApp({ secrets, sluiceUrl: '', sluiceApi, host: '127.0.0.1', port: demoPort }),
  };
}

async function startWorkerInProcess(config: Parameters<typeof startSluice>[0]): Promise<{ close(): Promise<void> }> {
  const { startWorker } = await import('../worker/start.js');
  return startWorker(config);
}

/** A loopback port that was free a moment ago (nginx needs the demo's and the worker's in advance). */
function loopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
