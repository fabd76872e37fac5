// Progress for long runs: a live bar (files, bytes, rate, ETA) on a terminal, and a plain line
// every few seconds otherwise (CI logs, `nohup`), so a hung run is visible either way.
import cliProgress from 'cli-progress';
import type { Progress } from './engine.js';

const PLAIN_INTERVAL_MS = 5_000;

export interface ProgressReporter {
  update(progress: Progress): void;
  stop(): void;
}

export function progressReporter(stream: NodeJS.WriteStream, label: string): ProgressReporter {
  const started = Date.now();
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {percentage}% | {value}/{total} files | {mb} MB | {rate} MB/s | ETA {eta_formatted}`, stream, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    let begun = false;
    return {
      update(p) {
        const extra = { mb: megabytes(p.doneBytes), rate: rate(p.doneBytes, started) };
        if (!begun) {
          bar.start(p.totalFiles, p.doneFiles, extra);
          begun = true;
        } else bar.update(p.doneFiles, extra);
      },
      stop: () => bar.stop(),
    };
  }
  let last = 0;
  return {
    update(p) {
      const now = Date.now();
      if (now - last < PLAIN_INTERVAL_MS && p.doneFiles !== p.totalFiles) return;
      last = now;
      const remaining = p.doneBytes === 0 ? '?' : `${Math.round(((now - started) / p.doneBytes) * (p.totalBytes - p.doneBytes) / 1000)}s`;
      stream.write(`${label}: ${p.doneFiles}/${p.totalFiles} files, ${megabytes(p.doneBytes)}/${megabytes(p.totalBytes)} MB, ${rate(p.doneBytes, started)} MB/s, ETA ${remaining}\n`);
    },
    stop() {},
  };
}

function megabytes(bytes: number): string {
  return (bytes / 1_048_576).toFixed(1);
}

function rate(bytes: number, started: number): string {
  const seconds = Math.max((Date.now() - started) / 1000, 0.001);
  return (bytes / 1_048_576 / seconds).toFixed(1);
}
