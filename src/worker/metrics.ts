// Prometheus metrics of the worker process (its own registry; GET /metrics on the worker port).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Limiter } from './transform/queue.js';
import { EVENT_LOOP_PRECISION_MS, registerRssGauge } from '../observability/metrics.js';

export interface WorkerMetrics {
  readonly registry: Registry;
  readonly renders: Counter<'status'>;
  readonly duration: Histogram<'format'>;
  /** Encrypted-store reads and writes (the crypt routes). */
  readonly crypt: Counter<'op' | 'status'>;
  /** Encrypted objects that failed verification (downloads and transform sources). */
  readonly cryptIntegrity: Counter<'store' | 'reason'>;
  /** Render requests answered 429, by why: queue_full, client_busy, budget. */
  readonly refused: Counter<'reason'>;
  /** The shared result store: hit, miss, write, error (lookup or write failed), skipped (settings differ from the app's). */
  readonly resultStore: Counter<'outcome'>;
}

export function createWorkerMetrics(limiter: Limiter): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_PRECISION_MS });
  registerRssGauge(registry, 'sluice_worker_rss_bytes');
  new Gauge({
    name: 'sluice_worker_active',
    help: 'Images being fetched or processed now',
    registers: [registry],
    collect() {
      this.set(limiter.active);
    },
  });
  new Gauge({
    name: 'sluice_worker_waiting',
    help: 'Requests waiting in the queue',
    registers: [registry],
    collect() {
      this.set(limiter.waiting);
    },
  });
  return {
    registry,
    renders: new Counter({
      name: 'sluice_worker_requests_total',
      help: 'Render requests that reached the worker, by answer status (a cache hit in nginx never gets here)',
      labelNames: ['status'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'sluice_worker_render_seconds',
      help: 'Fetch + transform time of successful renders',
      labelNames: ['format'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    refused: new Counter({
      name: 'sluice_worker_refused_total',
      help: "Render requests refused with 429: queue_full (the worker), client_busy (one client's share), budget (its renders per time)",
      labelNames: ['reason'],
      registers: [registry],
    }),
    resultStore: new Counter({
      name: 'sluice_worker_result_store_total',
      help: 'Shared result store lookups and writes: hit (served from the store, no render), miss, write, error, skipped',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    crypt: new Counter({
      name: 'sluice_worker_crypt_requests_total',
      help: 'Encrypted-store requests, by operation (read, write) and answer status',
      labelNames: ['op', 'status'],
      registers: [registry],
    }),
    cryptIntegrity: new Counter({
      name: 'sluice_worker_crypt_integrity_failures_total',
      help: 'Encrypted objects that failed verification when read (nothing unverified was sent), by store and reason',
      labelNames: ['store', 'reason'],
      registers: [registry],
    }),
  };
}
