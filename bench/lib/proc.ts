// Process-level measurement from /proc: CPU seconds (utime + stime) and resident set size of one
// process, sampled on a timer while a load runs, so the report can show them over time.
import { readFileSync } from 'node:fs';

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
  const started = performance.now();
  const samples: ProcSample[] = [];
  const take = (): void => {
    try {
      samples.push({ t: performance.now() - started, ...readProc(pid) });
    } catch {
      // The process went away: the series simply ends.
    }
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
