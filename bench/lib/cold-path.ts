// The app's CPU per authorized request, measured on the app in its own process: `sluice serve`
// (a real child process, its audit lines going to a file) behind nginx running Sluice's own
// rendered config, loaded by wrk with a Lua script that picks a different token and a different
// file for every request ("cold": no request is the same as the one before). The app's CPU is
// read from /proc/<pid>/stat (utime + stime) before and after each run, divided by the requests
// it answered. Used by scenario B3C and by `node --import tsx bench/cold-path.ts`.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { access, chmod, copyFile, mkdir, mkdtemp, open, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { mintToken } from '../../src/auth/mint.js';
import { validateConfig } from '../../src/config/load.js';
import { startNginx, type NginxProcess } from '../../src/nginx/process.js';
import { writeNginxConfig } from '../../src/nginx/write.js';
import { freePort } from '../../test/helpers/ports.js';
import { TEST_SECRET } from '../../test/helpers/tokens.js';
import { parseWrk, type WrkResult } from './clients.js';
import { writeRandomFile } from './fixtures.js';
import { readProc } from './proc.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export type TokenKind = 'HS256' | 'ES256';

export interface ColdPathOptions {
  /** Distinct files (10 KB each by default) and distinct tokens per algorithm. */
  readonly files?: number;
  readonly fileBytes?: number;
  readonly tokens?: number;
  /** Extra node flags for the app process, e.g. ['--cpu-prof', '--cpu-prof-dir=…']. */
  readonly nodeFlags?: readonly string[];
  /** The app's log level (default info: an audit line per decision, as in production). */
  readonly logLevel?: string;
  /** Another checkout of Sluice to run the app from (an A/B comparison); default this one. */
  readonly appRoot?: string;
  /** Run this script (relative to appRoot) instead of `src/cli/main.ts serve`: the Koa floor peer. */
  readonly appScript?: readonly string[];
  /**
   * Run the compiled CLI, `<appRoot>/dist/cli/main.js serve`, with plain node (as deployed)
   * instead of the TypeScript sources through tsx. See buildApp().
   */
  readonly built?: boolean;
}

/**
 * Compiles this checkout (tsc, as `npm run build`) into `<outRoot>/dist`, next to a package.json
 * and a node_modules link, so `startColdPathStack({ appRoot: outRoot, built: true })` runs what
 * would be deployed without touching the checkout's own dist/.
 */
export async function buildApp(outRoot: string, sourceRoot: string = REPO_ROOT): Promise<void> {
  await mkdir(outRoot, { recursive: true });
  await copyFile(path.join(sourceRoot, 'package.json'), path.join(outRoot, 'package.json'));
  await symlink(path.join(sourceRoot, 'node_modules'), path.join(outRoot, 'node_modules')).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  const tsc = spawn(process.execPath, [path.join(sourceRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--outDir', path.join(outRoot, 'dist')], {
    cwd: sourceRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  tsc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  tsc.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  await once(tsc, 'exit');
  // Type errors still emit JavaScript; only a missing entry point is fatal here.
  await access(path.join(outRoot, 'dist/cli/main.js')).catch(() => {
    throw new Error(`tsc produced no dist/cli/main.js:\n${out}`);
  });
}

export interface ColdRun {
  readonly kind: TokenKind;
  readonly wrk: WrkResult;
  /** App CPU (user + system) over the run divided by the requests answered, in µs. */
  readonly cpuMicrosPerRequest: number;
  readonly cpuSeconds: number;
}

export interface ColdPathStack {
  readonly appPid: number;
  readonly base: string;
  /** Where the app's stdout (its JSON log, audit lines included) goes. */
  readonly logFile: string;
  run(kind: TokenKind, connections: number, seconds: number): Promise<ColdRun>;
  /** SIGTERM to the app (graceful: it flushes its log), then nginx; removes the work directory. */
  stop(): Promise<void>;
}

export async function startColdPathStack(options: ColdPathOptions = {}): Promise<ColdPathStack> {
  const fileCount = options.files ?? 500;
  const tokenCount = options.tokens ?? 1000;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-cold-'));
  await chmod(dir, 0o755); // nginx workers (maybe another user) read the data through it
  const root = path.join(dir, 'store');
  await mkdir(root, { recursive: true });
  const names = Array.from({ length: fileCount }, (_, i) => `docs/file-${String(i).padStart(4, '0')}.bin`);
  await mkdir(path.join(root, 'docs'));
  for (const name of names) await writeRandomFile(path.join(root, name), options.fileBytes ?? 10_000);

  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const now = Math.floor(Date.now() / 1000);
  const hs: string[] = [];
  const es: string[] = [];
  for (let i = 0; i < tokenCount; i++) {
    hs.push(await mintToken({ secret: TEST_SECRET, sub: `user-${i}`, ttlSeconds: 3600 }));
    es.push(
      await new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: 'bench-es256' })
        .setSubject(`user-${i}`)
        .setIssuedAt(now)
        .setExpirationTime(now + 3600)
        .sign(privateKey),
    );
  }
  const port = await freePort();
  const appPort = await freePort();
  const settings = {
    host: '127.0.0.1',
    port,
    appPort,
    logLevel: options.logLevel ?? 'info',
    stores: { files: { type: 'fs', root } },
    auth: {
      keys: [
        { algorithms: ['HS256'], secret: TEST_SECRET },
        { kid: 'bench-es256', algorithms: ['ES256'], publicKey: await exportSPKI(publicKey) },
      ],
    },
    rules: [{ key: '*rest', when: [{ authenticated: true }] }],
  };
  const configFile = path.join(dir, 'sluice.json');
  await writeFile(configFile, JSON.stringify(settings));
  const config = validateConfig(settings);

  const logFile = path.join(dir, 'app.log');
  const log = await open(logFile, 'w');
  const appRoot = options.appRoot ?? REPO_ROOT;
  const app: ChildProcess = spawn(
    process.execPath,
    options.built === true
      ? [...(options.nodeFlags ?? []), 'dist/cli/main.js', 'serve']
      : [...(options.nodeFlags ?? []), '--import', 'tsx', ...(options.appScript ?? ['src/cli/main.ts', 'serve'])],
    { cwd: appRoot, env: { PATH: process.env.PATH, HOME: process.env.HOME, SLUICE_CONFIG: configFile }, stdio: ['ignore', log.fd, 'pipe'] },
  );
  await log.close();
  let stderr = '';
  app.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(app, 'exit');
  const killSync = (): void => {
    if (app.exitCode === null && app.signalCode === null) app.kill('SIGKILL');
  };
  process.once('exit', killSync);
  let nginx: NginxProcess | undefined;
  try {
    await waitForApp(`http://127.0.0.1:${appPort}/healthz`, app, () => stderr);
    const files = await writeNginxConfig(config, {
      outDir: path.join(dir, 'nginx'),
      appAddress: `127.0.0.1:${appPort}`,
      full: { runtimeDir: path.join(dir, 'nginx', 'run'), user: process.getuid?.() === 0 ? 'root' : undefined },
    });
    nginx = await startNginx(files.fullConfigPath as string, files.runtimeDir as string, { host: '127.0.0.1', port });
  } catch (error) {
    killSync();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const scripts = new Map<TokenKind, string>();
  for (const [kind, tokens] of [['HS256', hs], ['ES256', es]] as const) {
    const script = path.join(dir, `${kind}.lua`);
    await writeFile(script, wrkScript(names.map((n) => `/files/files/${n}`), tokens));
    scripts.set(kind, script);
  }
  const base = `http://127.0.0.1:${port}`;
  const appPid = app.pid as number;
  return {
    appPid,
    base,
    logFile,
    async run(kind, connections, seconds) {
      const before = readProc(appPid).cpuSeconds;
      const result = await runWrk(`${base}/`, scripts.get(kind) as string, connections, seconds);
      const cpuSeconds = readProc(appPid).cpuSeconds - before;
      if (result.non2xx > 0 || result.errors > 0 || result.requests === 0) {
        throw new Error(`wrk ${kind}: ${result.requests} requests, ${result.non2xx} non-2xx, ${result.errors} socket errors`);
      }
      return { kind, wrk: result, cpuSeconds, cpuMicrosPerRequest: (cpuSeconds / result.requests) * 1e6 };
    },
    async stop() {
      try {
        await nginx?.stop();
        if (app.exitCode === null && app.signalCode === null) {
          app.kill('SIGTERM');
          const timer = setTimeout(killSync, 10_000);
          await exited;
          clearTimeout(timer);
        }
      } finally {
        process.removeListener('exit', killSync);
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

async function waitForApp(url: string, app: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (app.exitCode !== null) throw new Error(`sluice serve exited (${app.exitCode}):\n${stderr()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`sluice serve did not answer ${url} within 30 s:\n${stderr()}`);
}

/** Every request a random (path, token) pair; each wrk thread seeds its own generator. */
function wrkScript(paths: readonly string[], tokens: readonly string[]): string {
  const list = (items: readonly string[]): string => `{\n${items.map((s) => `  ${JSON.stringify(s)},`).join('\n')}\n}`;
  return `local paths = ${list(paths)}
local tokens = ${list(tokens)}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end
function init(args)
  math.randomseed(os.time() * 1000 + (seed or 0))
end
function request()
  local p = paths[math.random(#paths)]
  local t = tokens[math.random(#tokens)]
  return wrk.format("GET", p, { ["Authorization"] = "Bearer " .. t })
end
`;
}

async function runWrk(url: string, script: string, connections: number, seconds: number): Promise<WrkResult> {
  const threads = String(Math.min(2, connections));
  const child = spawn('wrk', ['-t', threads, '-c', String(connections), '-d', `${seconds}s`, '--timeout', '30s', '--latency', '-s', script, url], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 40) * 1000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  if (code !== 0) throw new Error(`wrk exited with ${code}:\n${out}`);
  return parseWrk(out);
}
