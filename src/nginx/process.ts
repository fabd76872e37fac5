// Starts and stops a private nginx instance (embedded default, tests, benchmarks).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface NginxProcess {
  readonly pid: number;
  /** Resolves when nginx has exited (for whatever reason). */
  readonly exited: Promise<number | null>;
  /** Graceful stop (QUIT: finishes in-flight transfers), then KILL after a grace period. */
  stop(graceMs?: number): Promise<void>;
  /** What nginx wrote to stderr so far. */
  stderr(): string;
}

export function nginxBinary(): string {
  for (const candidate of ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx']) {
    if (existsSync(candidate)) return candidate;
  }
  return 'nginx';
}

/** `nginx -t`, so a bad config fails with nginx's own message instead of a hang. */
export async function testNginxConfig(confPath: string, runtimeDir: string): Promise<void> {
  try {
    await execFileAsync(nginxBinary(), ['-t', '-q', '-p', runtimeDir, '-c', confPath]);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? String(error);
    throw new Error(`nginx rejected ${confPath}:\n${stderr.trim()}`);
  }
}

export async function startNginx(confPath: string, runtimeDir: string, listen: { host: string; port: number }): Promise<NginxProcess> {
  await testNginxConfig(confPath, runtimeDir);
  // Own process group: a terminal's Ctrl-C reaches us, and we stop nginx in order (QUIT).
  const child: ChildProcess = spawn(nginxBinary(), ['-p', runtimeDir, '-c', confPath], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-20000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stopSync = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', stopSync);
  try {
    await waitForPort(listen.host, listen.port, 5000, exited);
  } catch (error) {
    stopSync();
    throw new Error(`nginx did not start: ${(error as Error).message}\n${stderr.trim()}`);
  }
  return {
    pid: child.pid as number,
    exited,
    stderr: () => stderr,
    async stop(graceMs = 5000) {
      process.removeListener('exit', stopSync);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGQUIT');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function waitForPort(host: string, port: number, timeoutMs: number, exited: Promise<number | null>): Promise<void> {
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (gone) throw new Error('nginx exited during start-up');
    if (await canConnect(host, port)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`nothing listening on ${host}:${port} after ${timeoutMs} ms`);
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
