// Process-level measurement from /proc: CPU seconds (utime + stime) and resident set size of one
// process, sampled on a timer while a load runs, so the report can show them over time.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

export interface ProcSample {
  /** Milliseconds since sampling started. */
  readonly t: number;
  readonly cpuSeconds: number;
  readonly rssBytes: number;
}

export function readProc(pid: number): { cpuSeconds: number; rssBytes: number } {
  if (pid === process.pid) {
    // Our own process (the in-process app): microsecond CPU resolution instead of 10 ms ticks.
    const usage = process.cpuUsage();
    return { cpuSeconds: (usage.user + usage.system) / 1e6, rssBytes: process.memoryUsage.rss() };
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name, which may itself contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  return { cpuSeconds: (utime + stime) / TICKS_PER_SECOND, rssBytes: rssKb * 1024 };
}

export interface Sampler {
  stop(): ProcSample[];
}

/** Samples `pid` every `intervalMs` until stopped (first sample immediately). */
export function sampleProcess(pid: number, intervalMs = 100): Sampler {
  return sampleEvery(intervalMs, () => {
    try {
      return readProc(pid);
    } catch {
      return undefined; // The process went away: the series simply ends.
    }
  });
}

/** Calls `read` now, every `intervalMs`, and once more on stop; undefined readings are skipped. */
function sampleEvery(intervalMs: number, read: () => Omit<ProcSample, 't'> | undefined): Sampler {
  const started = performance.now();
  const samples: ProcSample[] = [];
  const take = (): void => {
    const reading = read();
    if (reading !== undefined) samples.push({ t: performance.now() - started, ...reading });
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

export interface ProcDelta {
  readonly cpuSeconds: number;
  readonly rssGrowthBytes: number;
  readonly rssPeakBytes: number;
}

export function deltaOf(samples: readonly ProcSample[]): ProcDelta {
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (first === undefined || last === undefined) return { cpuSeconds: 0, rssGrowthBytes: 0, rssPeakBytes: 0 };
  const peak = Math.max(...samples.map((s) => s.rssBytes));
  return { cpuSeconds: last.cpuSeconds - first.cpuSeconds, rssGrowthBytes: peak - first.rssBytes, rssPeakBytes: peak };
}

/**
 * CPU seconds per second `pid` burns while nothing is asked of it (timers, GC, metrics), so a
 * per-request figure can be reported net of it: over a long transfer, idle time adds up.
 */
export async function idleCpuRate(pid: number, ms = 1000): Promise<number> {
  const before = readProc(pid).cpuSeconds;
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  return (readProc(pid).cpuSeconds - before) / ((performance.now() - started) / 1000);
}

/** The process and every descendant (a `sluice serve --processes n` primary and its copies). */
export function processTree(pid: number): number[] {
  const pids = [pid];
  for (let i = 0; i < pids.length; i++) {
    const p = pids[i] as number;
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue; // gone
    }
    for (const task of tasks) {
      try {
        for (const child of readFileSync(`/proc/${p}/task/${task}/children`, 'utf8').split(' ').filter(Boolean)) pids.push(Number(child));
      } catch {
        // thread gone, or no children file on this kernel
      }
    }
  }
  return pids;
}

/**
 * CPU seconds (user + system) of a process and all its descendants, with nanosecond resolution:
 * the sum of every thread's run time from /proc/<pid>/task/<tid>/schedstat (10 ms ticks from
 * /proc/<pid>/stat when schedstat is missing). Resolves a per-request cost of ~100 µs over a
 * handful of requests, which utime/stime ticks cannot.
 */
export function treeCpuSeconds(pid: number): number {
  let total = 0;
  for (const p of processTree(pid)) {
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    let ns = 0;
    let ok = true;
    for (const task of tasks) {
      try {
        ns += Number(readFileSync(`/proc/${p}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        ok = false;
      }
    }
    if (ok && Number.isFinite(ns)) total += ns / 1e9;
    else {
      try {
        total += readProc(p).cpuSeconds;
      } catch {
        // gone
      }
    }
  }
  return total;
}

/** Resident set size of a process and its descendants. */
export function treeRssBytes(pid: number): number {
  let total = 0;
  for (const p of processTree(pid)) {
    try {
      total += readProc(p).rssBytes;
    } catch {
      // gone
    }
  }
  return total;
}

/** Samples a process tree (CPU from schedstat, RSS summed) every `intervalMs` until stopped. */
export function sampleTree(pid: number, intervalMs = 100): Sampler {
  return sampleEvery(intervalMs, () => ({ cpuSeconds: treeCpuSeconds(pid), rssBytes: treeRssBytes(pid) }));
}

/** Like idleCpuRate, for a process tree read with treeCpuSeconds. */
export async function idleTreeCpuRate(pid: number, ms = 1000): Promise<number> {
  const before = treeCpuSeconds(pid);
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  return (treeCpuSeconds(pid) - before) / ((performance.now() - started) / 1000);
}
