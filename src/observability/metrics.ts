import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per app instance, so several instances (tests, workers) never collide. */
export interface Metrics {
  readonly registry: Registry;
  readonly requests: Counter<'route' | 'method' | 'status'>;
  readonly duration: Histogram<'route'>;
  readonly decisions: Counter<'store' | 'decision'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: new Counter({
      name: 'sluice_http_requests_total',
      help: 'HTTP requests answered by the app',
      labelNames: ['route', 'method', 'status'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'sluice_http_request_duration_seconds',
      help: 'Time the app spent on a request (the bytes are moved by nginx, not counted here)',
      labelNames: ['route'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    decisions: new Counter({
      name: 'sluice_access_decisions_total',
      help: 'Access decisions by store and outcome',
      labelNames: ['store', 'decision'],
      registers: [registry],
    }),
  };
}
