// A fixed list of URLs, each requested exactly once, by one curl process running `parallel`
// transfers at a time (`--parallel`, connections reused). For first requests that must not
// repeat (a repeat would be a cache hit), where wrk only offers "as many as fit in a duration".
// Loopback only, bounded by --max-time.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface ListRun {
  /** Per URL, in the order given. */
  readonly statuses: readonly number[];
  /** Per URL: curl's time_total, ms. */
  readonly latenciesMs: readonly number[];
  /** Wall time of the curl process, ms, less its start-up (`startupMs` of curlStartupMs()). */
  readonly wallMs: number;
  /** URLs per second over `wallMs`. */
  readonly perSecond: number;
}

function assertLoopback(url: string): void {
  const host = new URL(url).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]') throw new Error(`bench clients are loopback only: ${url}`);
}

async function runCurl(urls: readonly string[], parallel: number, maxSeconds: number): Promise<{ lines: string[]; wallMs: number }> {
  for (const url of urls) assertLoopback(url);
  // %{urlnum} (curl ≥ 7.75): transfers finish out of order in parallel mode.
  const args = ['-sS', '--no-progress-meter', '--max-time', String(maxSeconds), '-w', '%{urlnum} %{http_code} %{time_total}\\n'];
  if (parallel > 1) args.push('--parallel', '--parallel-immediate', '--parallel-max', String(parallel));
  const targets = urls.flatMap((url) => ['-o', '/dev/null', url]);
  const started = performance.now();
  const { stdout } = await execFileAsync('curl', [...args, ...targets], { maxBuffer: 1 << 22, timeout: (maxSeconds + 10) * 1000 });
  return { lines: stdout.trim().split('\n'), wallMs: performance.now() - started };
}

/** What one curl process costs before and after its transfers: wall time minus time_total of one request, median of 5. */
export async function curlStartupMs(url: string): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    const { lines, wallMs } = await runCurl([url], 1, 10);
    samples.push(wallMs - Number(lines[0]?.split(' ')[2]) * 1000);
  }
  samples.sort((a, b) => a - b);
  return Math.max(0, samples[2] as number);
}

export async function requestEach(urls: readonly string[], options: { parallel: number; startupMs: number; maxSeconds?: number }): Promise<ListRun> {
  const { lines, wallMs } = await runCurl(urls, options.parallel, options.maxSeconds ?? 120);
  const statuses = new Array<number>(urls.length).fill(0);
  const latenciesMs = new Array<number>(urls.length).fill(Number.NaN);
  for (const line of lines) {
    const [index, status, total] = line.split(' ').map(Number) as [number, number, number];
    statuses[index] = status;
    latenciesMs[index] = total * 1000;
  }
  const net = Math.max(1, wallMs - options.startupMs);
  return { statuses, latenciesMs, wallMs: net, perSecond: (urls.length / net) * 1000 };
}
