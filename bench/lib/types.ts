// The shapes every scenario produces and the report consumes.

export interface Table {
  readonly caption: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
}

export interface Chart {
  /** File-name stem, e.g. "b3-latency". */
  readonly id: string;
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly logX?: boolean;
  readonly series: readonly Series[];
}

export interface GoalResult {
  /** The goal as BENCH.md states it. */
  readonly goal: string;
  /** What we measured, in the goal's terms. */
  readonly measured: string;
  /** null: not decidable from this run (said in `margin`). */
  readonly met: boolean | null;
  /** How far above or below the goal, e.g. "+3.1%" or "short by 0.12×". */
  readonly margin: string;
}

export interface ScenarioResult {
  readonly id: string;
  readonly title: string;
  readonly peers: string;
  readonly tables: readonly Table[];
  readonly goals: readonly GoalResult[];
  readonly charts: readonly Chart[];
  readonly notes: readonly string[];
  readonly seconds: number;
  /** Raw samples for the JSON report. */
  readonly data: unknown;
}

export interface Profile {
  readonly name: 'tiny' | 'quick' | 'default';
  /** The "1 GiB" of B1/B2/B4 (smaller in quick runs, said in the report). */
  readonly bigBytes: number;
  /** Interleaved repetitions per scenario. */
  readonly reps: number;
  /** Length of each wrk run. */
  readonly wrkSeconds: number;
  readonly concurrencies: readonly number[];
  /** B4's sizes. */
  readonly sizes: readonly number[];
  /** B7: how many corpus images. */
  readonly corpusImages: number;
  /** B8: requests in the storm. */
  readonly stormRequests: number;
}

export interface Context {
  readonly profile: Profile;
  /** Throw-away directory for data (removed at the end). */
  readonly workDir: string;
  progress(message: string): void;
  /** Shared, lazily created fixtures (one big file, one S3 server) reused across scenarios. */
  shared<T>(name: string, create: () => Promise<T>, dispose?: (value: T) => Promise<void>): Promise<T>;
}

export interface Scenario {
  readonly id: string;
  readonly title: string;
  run(ctx: Context): Promise<Omit<ScenarioResult, 'id' | 'title' | 'seconds'>>;
}
