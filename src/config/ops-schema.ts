// Operational settings: load-balancer draining, graceful shutdown, storage timeouts, process count.
import { z } from 'zod';

/** A process count: 1–256, or "auto" (one per core). */
const processCount = z.union([z.number().int().min(1).max(256), z.literal('auto')]);

export const opsSchema = z
  .strictObject({
    /** DS Proxy style draining. */
    maintenanceFile: z
      .string()
      .min(1)
      .optional()
      .describe('while this file exists `GET /ping` answers 404, so load balancers drain the node; `/healthz` and `/readyz` are unaffected'),
    shutdownGraceMs: z
      .number()
      .int()
      .min(0)
      .max(300_000)
      .default(10_000)
      .describe('on SIGTERM: stop accepting, let in-flight requests finish this long, then exit 0'),
    storageTimeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(3600)
      .default(30)
      .describe("nginx's connect/read timeout towards S3: a stalled backend answers 502, not a hang"),
    processes: processCount.optional().meta({
      docDefault: '`1`',
      description: '`sluice serve` processes sharing the app port (`auto` = one per core); `--processes` wins (operations.md, *Several processes*)',
    }),
    workerProcesses: processCount
      .optional()
      .meta({ docDefault: '`1`', description: '`sluice worker` processes sharing the worker port (`auto` = one per core); `--processes` wins' }),
  })
  .prefault({});

export type OpsConfig = z.infer<typeof opsSchema>;
