// How big and how long: the default run (≤ 15 min), --quick (≤ 3 min) and the smoke test's tiny run.
import type { Profile } from './types.js';

const MiB = 2 ** 20;

export const PROFILES: Record<Profile['name'], Profile> = {
  default: {
    name: 'default',
    bigBytes: 1024 * MiB,
    reps: 3,
    wrkSeconds: 5,
    concurrencies: [1, 4, 16, 64],
    sizes: [1_000, 1_000_000, 100_000_000, 1024 * MiB],
    corpusImages: 8,
    stormRequests: 400,
  },
  quick: {
    name: 'quick',
    bigBytes: 128 * MiB,
    reps: 2,
    wrkSeconds: 1,
    concurrencies: [1, 8, 64],
    sizes: [1_000, 1_000_000, 100_000_000],
    corpusImages: 3,
    stormRequests: 160,
  },
  tiny: {
    name: 'tiny',
    bigBytes: 4 * MiB,
    reps: 1,
    wrkSeconds: 1,
    concurrencies: [1, 4],
    sizes: [1_000, 1_000_000],
    corpusImages: 1,
    stormRequests: 16,
  },
};
