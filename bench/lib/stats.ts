// Small statistics for benchmark samples: medians with their spread, percentiles, ratios.

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function spread(xs: readonly number[]): Spread {
  if (xs.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 };
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
}

/** Nearest-rank percentile of unsorted samples, p in 0–100. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export function ratio(a: number, b: number): number {
  return b === 0 ? Number.NaN : a / b;
}

/** "123 (110–130)" with a fixed number of decimals. */
export function formatSpread(s: Spread, digits = 0): string {
  if (s.n === 0 || Number.isNaN(s.median)) return 'n/a';
  if (s.n === 1) return s.median.toFixed(digits);
  return `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
}
