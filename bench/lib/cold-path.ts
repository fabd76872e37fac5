// The app's CPU per authorized request, measured on the app in its own process: `sluice serve`
// (a real child process, its audit lines going to a file) behind nginx running Sluice's own
// rendered config, loaded by wrk with a Lua script that picks a different token and a different
// file for every request ("cold": no request is the same as the one before). The app's CPU is
// read from /proc (every thread's run time in /proc/<pid>/task/*/schedstat, ns) before and after each run, divided by the requests
// it answered. Used by scenario B3C and by `node --import tsx bench/cold-path.ts`.
//
// The same machinery serves B2, B3 and B4 (the app in its own process, so its CPU is its own):
// more processes (`--processes n`, CPU summed over the process tree), a second store on the same
// files with the nginx decision cache on, a video-sized file for Range requests, extra stores
// (S3), a `location /direct/` on the same nginx serving the files with no auth (the peer), and
// workloads beyond "cold": "warm" (a few users re-reading their gallery and seeking in a video).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { access, chmod, copyFile, mkdir, mkdtemp, open, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { mintToken } from '../../src/auth/mint.js';
import { validateConfig } from '../../src/config/load.js';
import { startNginx, type NginxProcess } from '../../src/nginx/process.js';
import { writeNginxConfig } from '../../src/cli/nginx-files.js';
import { freePort } from '../../test/helpers/ports.js';
import { TEST_SECRET } from '../../test/helpers/tokens.js';
import { parseWrk, type WrkResult } from './clients.js';
import { writeRandomFile } from './fixtures.js';
import { treeCpuSeconds } from './proc.js';
import type { Context } from './types.js';

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
  /** `sluice serve --processes n` (default: no flag, one process). */
  readonly processes?: number;
  /** Also a store `cached` on the same files with `decisionCache.ttlSeconds` = this. */
  readonly decisionCacheSeconds?: number;
  /** Also `video/movie.bin` of this many bytes (the warm workload's Range requests). */
  readonly videoBytes?: number;
  /** More stores (e.g. S3) next to `files`. */
  readonly extraStores?: Record<string, unknown>;
  /** More nginx server directives next to the `location /direct/` peer. */
  readonly extraServerConfig?: string;
  /** The app log level is info by default; rules other than "authenticated reads everything". */
  readonly rules?: readonly unknown[];
}

/** Where a workload's requests go: the plain store, the store with the decision cache, nginx static. */
export type Target = 'files' | 'cached' | 'direct';
/**
 * cold: every request a random file of `files` and a random user's token;
 * warm: WARM_USERS users, each re-reading a gallery of WARM_GALLERY 10 KB files, and one request in
 *       four a 256 KiB Range of the video at a random offset (a player seeking / buffering).
 */
export type Mix = 'cold' | 'warm';
export const WARM_USERS = 8;
export const WARM_GALLERY = 24;
export const RANGE_BYTES = 256 * 1024;

export interface Workload {
  readonly mix: Mix;
  readonly target: Target;
  readonly kind: TokenKind;
}

export interface LoadRun extends ColdRun {
  /** Share of this run's requests nginx answered from the decision cache (target `cached`). */
  readonly hitRate?: number;
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
  const tsc = spawn(
    process.execPath,
    [path.join(sourceRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--outDir', path.join(outRoot, 'dist')],
    {
      cwd: sourceRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
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
  /** nginx's master process (its workers are its children). */
  readonly nginxPid: number;
  readonly base: string;
  /** The fs store's root (`files`, `cached` and `/direct/` all serve it). */
  readonly root: string;
  /** Where the app's stdout (its JSON log, audit lines included) goes. */
  readonly logFile: string;
  /** `Authorization` header of the i-th user's token. */
  authHeader(kind: TokenKind, index?: number): Record<string, string>;
  /** CPU seconds of the app (all its processes) so far. */
  cpuSeconds(): number;
  run(kind: TokenKind, connections: number, seconds: number): Promise<ColdRun>;
  /** One wrk run of a workload; app CPU over it; the decision-cache hit rate for `cached`. */
  load(workload: Workload, connections: number, seconds: number): Promise<LoadRun>;
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
  if (options.videoBytes !== undefined) {
    await mkdir(path.join(root, 'video'));
    await writeRandomFile(path.join(root, VIDEO), options.videoBytes);
  }

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
    stores: {
      files: { type: 'fs', root },
      ...(options.decisionCacheSeconds !== undefined && { cached: { type: 'fs', root, decisionCache: { ttlSeconds: options.decisionCacheSeconds } } }),
      ...options.extraStores,
    },
    auth: {
      keys: [
        { algorithms: ['HS256'], secret: TEST_SECRET },
        { kid: 'bench-es256', algorithms: ['ES256'], publicKey: await exportSPKI(publicKey) },
      ],
    },
    rules: options.rules ?? [{ key: '*rest', when: [{ authenticated: true }] }],
  };
  const configFile = path.join(dir, 'sluice.json');
  await writeFile(configFile, JSON.stringify(settings));
  const config = validateConfig(settings);

  const logFile = path.join(dir, 'app.log');
  const log = await open(logFile, 'w');
  const appRoot = options.appRoot ?? REPO_ROOT;
  const processesFlag = options.processes === undefined ? [] : ['--processes', String(options.processes)];
  const app: ChildProcess = spawn(
    process.execPath,
    options.built === true
      ? [...(options.nodeFlags ?? []), 'dist/cli/main.js', 'serve', ...processesFlag]
      : [...(options.nodeFlags ?? []), '--import', 'tsx', ...(options.appScript ?? ['src/cli/main.ts', 'serve', ...processesFlag])],
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
      full: {
        runtimeDir: path.join(dir, 'nginx', 'run'),
        user: process.getuid?.() === 0 ? 'root' : undefined,
        extraServerConfig: [`location /direct/ {\n    alias "${root}/";\n}`, options.extraServerConfig ?? ''].join('\n'),
      },
    });
    nginx = await startNginx(files.fullConfigPath as string, files.runtimeDir as string, { host: '127.0.0.1', port });
  } catch (error) {
    killSync();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const scripts = new Map<string, string>();
  const tokensOf = { HS256: hs, ES256: es } as const;
  const scriptFor = async (w: Workload): Promise<string> => {
    const name = `${w.mix}-${w.target}-${w.kind}`;
    let script = scripts.get(name);
    if (script === undefined) {
      script = path.join(dir, `${name}.lua`);
      const prefix = w.target === 'direct' ? '/direct/' : `/files/${w.target}/`;
      await writeFile(
        script,
        w.mix === 'cold'
          ? wrkScript(
              names.map((n) => `${prefix}${n}`),
              tokensOf[w.kind],
            )
          : warmScript(
              names.map((n) => `${prefix}${n}`),
              tokensOf[w.kind],
              `${prefix}${VIDEO}`,
              options.videoBytes ?? 0,
            ),
      );
      scripts.set(name, script);
    }
    return script;
  };
  const base = `http://127.0.0.1:${port}`;
  const appPid = app.pid as number;
  const auditLog = path.join(dir, 'nginx', 'run', 'sluice-audit.log');
  const load = async (w: Workload, connections: number, seconds: number): Promise<LoadRun> => {
    const script = await scriptFor(w);
    const auditBefore = w.target === 'cached' ? await fileSize(auditLog) : 0;
    const before = treeCpuSeconds(appPid);
    const result = await runWrk(`${base}/`, script, connections, seconds);
    const cpuSeconds = treeCpuSeconds(appPid) - before;
    if (result.non2xx > 0 || result.errors > 0 || result.requests === 0) {
      throw new Error(`wrk ${w.mix} ${w.target} ${w.kind}: ${result.requests} requests, ${result.non2xx} non-2xx, ${result.errors} socket errors`);
    }
    const run: LoadRun = { kind: w.kind, wrk: result, cpuSeconds, cpuMicrosPerRequest: (cpuSeconds / result.requests) * 1e6 };
    if (w.target !== 'cached') return run;
    // nginx writes one audit line per request of a cached store, "cache":"HIT" for a hit; buffered
    // (nginx.decisionCache.auditLogBuffer), they reach the file within the flush interval.
    const deadline = Date.now() + 3000;
    let lines: string[] = [];
    do {
      await new Promise((resolve) => setTimeout(resolve, 100));
      lines = (await readFrom(auditLog, auditBefore)).split('\n').filter(Boolean);
    } while (lines.length < result.requests && Date.now() < deadline);
    const hits = lines.filter((l) => l.includes('"cache":"HIT"')).length;
    return { ...run, hitRate: lines.length === 0 ? Number.NaN : hits / lines.length };
  };
  return {
    appPid,
    nginxPid: (nginx as NginxProcess).pid,
    base,
    root,
    logFile,
    authHeader: (kind, index = 0) => ({ Authorization: `Bearer ${tokensOf[kind][index % tokensOf[kind].length] as string}` }),
    cpuSeconds: () => treeCpuSeconds(appPid),
    run: (kind, connections, seconds) => load({ mix: 'cold', target: 'files', kind }, connections, seconds),
    load,
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

const VIDEO = 'video/movie.bin';

async function fileSize(file: string): Promise<number> {
  return (await stat(file).catch(() => ({ size: 0 }))).size;
}

async function readFrom(file: string, offset: number): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    const buffer = Buffer.alloc(Math.max(0, size - offset));
    await handle.read(buffer, 0, buffer.length, offset);
    return buffer.toString('latin1');
  } finally {
    await handle.close();
  }
}

/** The Lua both wrk scripts start with: the path and token tables, and a seed per wrk thread. */
function luaPrelude(paths: readonly string[], tokens: readonly string[]): string {
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
end`;
}

/** A few users re-reading their own gallery, and seeking in a video with Range requests. */
function warmScript(paths: readonly string[], tokens: readonly string[], video: string, videoBytes: number): string {
  const slices = Math.max(1, Math.floor(videoBytes / RANGE_BYTES));
  return `${luaPrelude(paths, tokens.slice(0, WARM_USERS))}
function request()
  local u = math.random(#tokens)
  local headers = { ["Authorization"] = "Bearer " .. tokens[u] }
  if ${videoBytes > 0 ? 'math.random(4) == 1' : 'false'} then
    local from = (math.random(${slices}) - 1) * ${RANGE_BYTES}
    headers["Range"] = "bytes=" .. from .. "-" .. (from + ${RANGE_BYTES - 1})
    return wrk.format("GET", ${JSON.stringify(video)}, headers)
  end
  local p = paths[((u - 1) * ${WARM_GALLERY} + math.random(${WARM_GALLERY}) - 1) % #paths + 1]
  return wrk.format("GET", p, headers)
end
`;
}

/** Every request a random (path, token) pair; each wrk thread seeds its own generator. */
function wrkScript(paths: readonly string[], tokens: readonly string[]): string {
  return `${luaPrelude(paths, tokens)}
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

/**
 * How the scenarios run the app: the compiled CLI under plain node (as deployed), compiled once
 * per bench run into its work directory; the tiny profile (the harness smoke test) runs the
 * TypeScript sources through tsx instead, to skip the compile.
 */
export async function appUnderTest(ctx: Context): Promise<Pick<ColdPathOptions, 'appRoot' | 'built'>> {
  if (ctx.profile.name === 'tiny') return {};
  const appRoot = await ctx.shared('app-build', async () => {
    const dir = path.join(ctx.workDir, 'app-build');
    ctx.progress('compiling the app (tsc) to run it as `sluice serve`');
    await buildApp(dir);
    return dir;
  });
  return { appRoot, built: true };
}
