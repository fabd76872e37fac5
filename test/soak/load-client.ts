// Load generator run as its own process (so the test process's RSS is the app's): autocannon
// over a list of requests (a JSON file named by argv[2]), each with the statuses it may answer.
// Prints one JSON summary line.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

/** The part of autocannon's API used here (the package ships no type declarations). */
type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
  timeout: number;
  requests: {
    method: string;
    path: string;
    headers: Record<string, string>;
    setupRequest?: (request: { path: string; headers: Record<string, string> }) => { path: string; headers: Record<string, string> };
    onResponse: (status: number) => void;
  }[];
}) => Promise<{ requests: { total: number }; errors: number; timeouts: number }>;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

export interface LoadRequest {
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly expect: readonly number[];
}

export interface LoadInput {
  readonly url: string;
  readonly connections: number;
  readonly seconds: number;
  readonly requests: readonly LoadRequest[];
  /** Each request picks one of `requests` at random (a storm of distinct URLs) instead of cycling. */
  readonly random?: boolean;
}

export interface LoadSummary {
  readonly requests: number;
  readonly statuses: Record<string, number>;
  readonly unexpected: Record<string, number>;
  readonly errors: number;
  readonly timeouts: number;
}

const statuses: Record<string, number> = {};
const unexpected: Record<string, number> = {};

function tally(status: number, r: LoadRequest): void {
  statuses[status] = (statuses[status] ?? 0) + 1;
  if (!r.expect.includes(status)) unexpected[`${status} ${r.path}`] = (unexpected[`${status} ${r.path}`] ?? 0) + 1;
}

function fixed(r: LoadRequest) {
  return { method: 'GET', path: r.path, headers: r.headers ?? {}, onResponse: (status: number) => tally(status, r) };
}

function randomPick(all: readonly LoadRequest[]) {
  let last = all[0] as LoadRequest;
  return {
    method: 'GET',
    path: last.path,
    headers: last.headers ?? {},
    setupRequest: (request: { path: string; headers: Record<string, string> }) => {
      last = all[Math.floor(Math.random() * all.length)] as LoadRequest;
      return { ...request, path: last.path, headers: { ...request.headers, ...last.headers } };
    },
    // Shared by all connections: use it for storms whose requests share one expectation.
    onResponse: (status: number) => tally(status, last),
  };
}

const input = JSON.parse(await readFile(process.argv[2] as string, 'utf8')) as LoadInput;
const result = await autocannon({
  url: input.url,
  connections: input.connections,
  duration: input.seconds,
  timeout: 30,
  requests: input.random === true ? [randomPick(input.requests)] : input.requests.map(fixed),
});
const summary: LoadSummary = { requests: result.requests.total, statuses, unexpected, errors: result.errors, timeouts: result.timeouts };
process.stdout.write(`${JSON.stringify(summary)}\n`);
