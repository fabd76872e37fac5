// Command-line flags of the standalone bench tools (cold-path.ts, where-time-goes.ts).

/** The value after `--name`, if given. */
export function option(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index > 0 ? process.argv[index + 1] : undefined;
}

export function flag(name: string): boolean {
  return process.argv.includes(name);
}

/** The wrk run shape both tools take: `--seconds 5 --reps 3 --connections 16` by default. */
export function runShape(): { readonly seconds: number; readonly reps: number; readonly connections: number } {
  return { seconds: Number(option('--seconds') ?? 5), reps: Number(option('--reps') ?? 3), connections: Number(option('--connections') ?? 16) };
}
