// Progress for long runs: a live bar (files, bytes, rate, ETA) on a terminal, and a plain line
// every few seconds otherwise (CI logs, `nohup`), so a hung run is visible either way.
import cliProgress from 'cli-progress';
import type { Progress } from './engine.js';

const PLAIN_INTERVAL_MS = 5_000;

export interface ProgressReporter {
  update(progress: Progress): void;
  stop(): void;
}

/** The figures both outputs show, from a progress report and the time since the run began. */
export interface ProgressFigures {
  /** Bytes done/total in the total's unit: "12.3/45.6 MB", "3.1/8.0 KB", "12/24 B". */
  readonly amount: string;
  /** Throughput so far: "2.5 MB/s", "830.0 KB/s". */
  readonly rate: string;
  /** "42s", "1m05s", "0s" when done, "?" until something was done. */
  readonly eta: string;
}

export function progressFigures(p: Progress, elapsedMs: number): ProgressFigures {
  const seconds = Math.max(elapsedMs / 1000, 0.001);
  // Bytes drive the estimate; a run of empty files (or deletions only) falls back to files.
  const [done, total] = p.totalBytes > 0 ? [p.doneBytes, p.totalBytes] : [p.doneFiles, p.totalFiles];
  const eta = done >= total ? '0s' : done === 0 ? '?' : duration(((total - done) * seconds) / done);
  const unit = unitFor(p.totalBytes);
  const perSecond = p.doneBytes / seconds;
  const rateUnit = unitFor(perSecond, 1);
  return { amount: `${inUnit(p.doneBytes, unit)}/${inUnit(p.totalBytes, unit)} ${unit.name}`, rate: `${inUnit(perSecond, rateUnit)} ${rateUnit.name}/s`, eta };
}

export function progressLine(label: string, p: Progress, elapsedMs: number): string {
  const f = progressFigures(p, elapsedMs);
  return `${label}: ${p.doneFiles}/${p.totalFiles} files, ${f.amount}, ${f.rate}, ETA ${f.eta}`;
}

export function progressReporter(stream: NodeJS.WriteStream, label: string, now: () => number = Date.now): ProgressReporter {
  const started = now();
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {percentage}% | {value}/{total} files | {amount} | {rate} | ETA {eta}`, stream, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    let begun = false;
    return {
      update(p) {
        const extra = progressFigures(p, now() - started);
        if (!begun) {
          bar.start(p.totalFiles, p.doneFiles, extra);
          begun = true;
        } else bar.update(p.doneFiles, extra);
      },
      stop: () => bar.stop(),
    };
  }
  let last = Number.NEGATIVE_INFINITY;
  return {
    update(p) {
      const at = now();
      if (at - last < PLAIN_INTERVAL_MS && p.doneFiles !== p.totalFiles) return;
      last = at;
      stream.write(`${progressLine(label, p, at - started)}\n`);
    },
    stop() {},
  };
}

interface Unit {
  readonly name: string;
  readonly bytes: number;
}

const UNITS: readonly Unit[] = [
  { name: 'B', bytes: 1 },
  { name: 'KB', bytes: 1024 },
  { name: 'MB', bytes: 1_048_576 },
  { name: 'GB', bytes: 1_073_741_824 },
];

/** The largest unit (from UNITS[floor] up) in which `bytes` is at least 1. */
function unitFor(bytes: number, floor = 0): Unit {
  let chosen = UNITS[floor] as Unit;
  for (const unit of UNITS.slice(floor)) if (bytes >= unit.bytes) chosen = unit;
  return chosen;
}

function inUnit(bytes: number, unit: Unit): string {
  return unit.bytes === 1 ? String(Math.round(bytes)) : (bytes / unit.bytes).toFixed(1);
}

function duration(seconds: number): string {
  const s = Math.ceil(seconds);
  if (s < 60) return `${s}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m${rest}s` : `${m}m${rest}s`;
}
