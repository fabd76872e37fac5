// The image transform worker: where it listens, its limits, formats and cache.
import { z } from 'zod';

export const workerSchema = z.strictObject({}).default({});
