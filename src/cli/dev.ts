// `sluice dev` (what `npm start` runs): the embedded default. nginx + the app on 127.0.0.1 with
// an fs store under ./data seeded with sample files, and a ready line with a working curl.
// `--demo` adds the demo host app (examples/demo) behind the same nginx, the image worker,
// transforms, uploads, share links, an encrypted store (keyring under --state) and a rate limit.
import { createHmac, randomBytes } from 'node:crypto';
import net from 'node:net';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Writable } from 'node:stream';
import { Command } from 'commander';
import { pino } from 'pino';
import { mintToken } from '../auth/mint.js';
import { loadConfig } from '../config/load.js';
import { createKeyring } from '../crypto/keyring.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { startNginx } from '../nginx/process.js';
import { writeNginxConfig } from './nginx-files.js';
import { startSluice } from '../server.js';
import { seedDemoFiles } from './dev-seed.js';
import { onShutdownSignal } from '../cluster/signals.js';

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
      const demo = options.demo === true ? await prepareDemo(dataDir, stateDir, secret) : undefined;
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
      const app = await startSluice(config, demo === undefined ? {} : { logger: demo.logger(config.logLevel) });
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
          // The other samples need the token too (a bare URL answers 401): one curl saving each under its name.
          ...(samples.length > 1
            ? [
                'The other samples, saved under their names in the current directory:',
                `  curl -fsS -H 'Authorization: Bearer ${token}'${samples
                  .slice(1)
                  .map((s) => ` -o ${shellQuote(s)} '${base}/${encodeURIComponent(s)}'`)
                  .join('')}`,
              ]
            : []),
          `Mint another token: SLUICE_JWT_SECRET=$(cat ${path.relative(process.cwd(), path.join(stateDir, 'dev-jwt-secret'))}) npm run sluice -- token --sub alice   ·   Stop: Ctrl-C`,
          ...(demoApp === undefined ? [] : [`Demo host app: http://${config.host}:${config.port}/  (log in as alice / alice-demo or bob / bob-demo)`]),
          '',
        ].join('\n'),
      );
    });
}

/** One shell word, whatever the file name holds. */
function shellQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
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
  demoSluiceConfig(options: { root: string; secrets: DemoSecrets; vault: { root: string; encryption: Record<string, unknown> } }): Record<string, unknown>;
  demoNginxLocations(demoAddress: string): string;
  seedDemoStore(root: string): Promise<void>;
  seedVault(sluiceOrigin: string, jwtSecret: string): Promise<void>;
  createAuditFeed(): { push(jsonLine: string): void; source: () => Iterable<Record<string, unknown>> };
  VAULT_STORE: string;
  startDemoApp(options: {
    secrets: DemoSecrets;
    sluiceUrl: string;
    sluiceApi: string;
    host: string;
    port: number;
    vaultStore: string;
    countedLinks: boolean;
    audit: () => Iterable<Record<string, unknown>>;
  }): Promise<{ close(): Promise<void> }>;
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
  /** The app's logger: its lines go to stdout as usual (at the configured level) and its audit lines to the demo's panel. */
  logger(level: string): Logger;
  start(sluiceApi: string): Promise<{ close(): Promise<void> }>;
}

const DEMO_ENTRY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'demo', 'index.ts');

/** Seeds the demo's files into the store root and settles its config, secrets, keyring and port. */
async function prepareDemo(dataDir: string, stateDir: string, devSecret: string): Promise<PreparedDemo> {
  const root = path.join(dataDir, 'demo');
  // The demo is TypeScript outside the build: load it through tsx (a dev dependency, as for `npm start`).
  const { register } = await import('tsx/esm/api');
  register();
  const demo = (await import(pathToFileURL(DEMO_ENTRY).href)) as DemoModule;
  // Derived from the per-checkout development secret: stable across restarts, never shared.
  const derive = (label: string, bytes: number): string =>
    createHmac('sha256', devSecret)
      .update(label)
      .digest('hex')
      .slice(0, bytes * 2);
  const secrets: DemoSecrets = {
    jwtSecret: devSecret,
    shareSecret: derive('share', 32),
    imgproxyKey: derive('imgproxy-key', 32),
    imgproxySalt: derive('imgproxy-salt', 16),
    workerSecret: derive('worker', 32),
  };
  await demo.seedDemoStore(root);
  const vault = await demoVault(dataDir, stateDir, derive('master-password', 32));
  const [demoPort, workerPort] = [await loopbackPort(), await loopbackPort()];
  const config = demo.demoSluiceConfig({ root, secrets, vault });
  const rules = [...(config.rules as unknown[]), { id: 'dev-samples', store: 'demo', key: ':name', when: [{ authenticated: true }] }];
  const feed = demo.createAuditFeed();
  return {
    config: { ...config, rules, worker: { ...(config.worker as object), port: workerPort } },
    nginxLocations: demo.demoNginxLocations(`127.0.0.1:${demoPort}`),
    logger: (level) => teeLogger(level, feed.push),
    start: async (sluiceApi) => {
      await demo.seedVault(sluiceApi, secrets.jwtSecret);
      // No Redis in the embedded default: share links cannot count downloads (the page says so).
      return demo.startDemoApp({
        secrets,
        sluiceUrl: '',
        sluiceApi,
        host: '127.0.0.1',
        port: demoPort,
        vaultStore: demo.VAULT_STORE,
        countedLinks: false,
        audit: feed.source,
      });
    },
  };
}

/**
 * The demo's encrypted store: a keyring under --state, sealed with a password derived from the
 * per-checkout development secret (which sits next to it): development only. The worker reads
 * it from a file (allowRegularPasswordFile); production passes it on a descriptor (see docs/encryption.md).
 */
async function demoVault(dataDir: string, stateDir: string, password: string): Promise<{ root: string; encryption: Record<string, unknown> }> {
  const root = path.join(dataDir, 'vault');
  const keyringFile = path.join(stateDir, 'demo-keyring.json');
  const passwordFile = path.join(stateDir, 'demo-master-password');
  await mkdir(root, { recursive: true });
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  if (!existsSync(keyringFile)) await createKeyring(keyringFile, password, { id: 'demo-1' });
  return { root, encryption: { keyringFile, passwordFile, allowRegularPasswordFile: true } };
}

/** A logger at `info` or finer (the panel needs the audit lines) that prints only what `level` asks for. */
function teeLogger(level: string, feed: (jsonLine: string) => void): Logger {
  const threshold = level === 'silent' ? Infinity : (pino.levels.values[level] ?? 30);
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line === '') continue;
        feed(line);
        if (Number(/"level":(\d+)/.exec(line)?.[1] ?? 100) >= threshold) process.stdout.write(`${line}\n`);
      }
      done();
    },
  });
  return createLogger(threshold < 30 ? level : 'info', sink);
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
