// Load generators: real tools in their own processes (curl for big transfers, wrk for request
// rates), so the client's CPU never lands in the measured app process. Loopback only, and every
// run is bounded (wrk by duration and socket timeout, curl by --max-time).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface Transfer {
  readonly status: number;
  readonly bytes: number;
  readonly seconds: number;
  /** 10^6 bytes per second. */
  readonly mbps: number;
  /** For redirects: where the response pointed. */
  readonly location: string;
}

function assertLoopback(url: string): void {
  const host = new URL(url).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]') throw new Error(`bench clients are loopback only: ${url}`);
}

function headerArgs(headers: Record<string, string>): string[] {
  return Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
}

/** One GET with curl, body discarded; timings from curl itself. */
export async function curlGet(url: string, headers: Record<string, string> = {}, maxSeconds = 300): Promise<Transfer> {
  assertLoopback(url);
  const args = ['-sS', '-o', '/dev/null', '--max-time', String(maxSeconds), '-w', '%{http_code} %{size_download} %{time_total} %{redirect_url}'];
  const { stdout } = await execFileAsync('curl', [...args, ...headerArgs(headers), url], { maxBuffer: 1 << 20 });
  const [status, size, seconds, location] = stdout.trim().split(' ');
  const bytes = Number(size);
  const total = Number(seconds);
  return { status: Number(status), bytes, seconds: total, mbps: bytes / total / 1e6, location: location ?? '' };
}

/** `count` sequential GETs of one URL in a single curl process (one connection, reused). */
export async function curlRepeat(url: string, count: number, headers: Record<string, string> = {}, maxSeconds = 600): Promise<number[]> {
  assertLoopback(url);
  const targets = Array.from({ length: count }, () => [url, '-o', '/dev/null']).flat();
  const { stdout } = await execFileAsync('curl', ['-sS', '--max-time', String(maxSeconds), '-w', '%{http_code}\n', ...headerArgs(headers), ...targets], {
    maxBuffer: 1 << 20,
  });
  return stdout.trim().split('\n').map(Number);
}

export interface WrkResult {
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly non2xx: number;
  readonly errors: number;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function durationMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (match === null) return Number.NaN;
  return Number(match[1]) * (UNIT_MS[match[2] as string] as number);
}

export function parseWrk(output: string): WrkResult {
  const requests = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(output);
  if (requests === null) throw new Error(`unexpected wrk output:\n${output}`);
  const seconds = durationMs(`${requests[2]}${requests[3]}`) / 1000;
  const pct = (p: string): number => durationMs(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(output)?.[1] ?? '');
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  return {
    requests: Number(requests[1]),
    seconds,
    rps: Number(requests[1]) / seconds,
    p50Ms: pct('50'),
    p99Ms: pct('99'),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0),
    errors: errors === null ? 0 : errors.slice(1).reduce((sum, n) => sum + Number(n), 0),
  };
}

export interface WrkOptions {
  readonly connections: number;
  readonly seconds: number;
  readonly headers?: Record<string, string>;
  /** Allowed non-2xx answers (the storm expects 429s); by default any failure is an error. */
  readonly allowFailures?: boolean;
}

/** A closed-loop wrk run: `connections` clients for `seconds`, latency percentiles included. */
export async function wrk(url: string, options: WrkOptions): Promise<WrkResult> {
  assertLoopback(url);
  const threads = Math.min(2, options.connections);
  const args = ['-t', String(threads), '-c', String(options.connections), '-d', `${options.seconds}s`, '--timeout', '30s', '--latency'];
  const { stdout } = await execFileAsync('wrk', [...args, ...headerArgs(options.headers ?? {}), url], {
    timeout: (options.seconds + 40) * 1000,
    maxBuffer: 1 << 20,
  });
  const result = parseWrk(stdout);
  if (!options.allowFailures && (result.non2xx > 0 || result.errors > 0 || result.requests === 0)) {
    throw new Error(`wrk ${url}: ${result.requests} requests, ${result.non2xx} non-2xx, ${result.errors} socket errors`);
  }
  return result;
}
