// Operational settings: load-balancer draining, graceful shutdown, storage timeouts, process count.
import { z } from 'zod';

/** A process count: 1–256, or "auto" (one per core). */
const processCount = z.union([z.number().int().min(1).max(256), z.literal('auto')]);

export const opsSchema = z
  .strictObject({
    /**
     * While this file exists, `GET /ping` answers 404 so load balancers drain the node
     * (DS Proxy style); `/healthz` and `/readyz` are unaffected.
     */
    maintenanceFile: z.string().min(1).optional(),
    /** On SIGTERM: stop accepting, then give in-flight requests this long before closing them. */
    shutdownGraceMs: z.number().int().min(0).max(300_000).default(10_000),
    /** nginx's connect/read timeout towards S3 storage; a slower backend answers 502, not a hang. */
    storageTimeoutSeconds: z.number().int().min(1).max(3600).default(30),
    /** `sluice serve` processes sharing the app port (the --processes flag wins); unset = 1. */
    processes: processCount.optional(),
    /** `sluice worker` processes sharing the worker port (the --processes flag wins); unset = 1. */
    workerProcesses: processCount.optional(),
  })
  .prefault({});

export type OpsConfig = z.infer<typeof opsSchema>;
