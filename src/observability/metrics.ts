// Prometheus metrics of the app (GET /metrics on the app port; the nginx snippet never exposes it).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SluiceConfig } from '../config/schema.js';

/** One registry per app instance, so several instances (tests, workers) never collide. */
export interface Metrics {
  readonly registry: Registry;
  readonly requests: Counter<'route' | 'method' | 'status'>;
  readonly duration: Histogram<'route'>;
  readonly decisions: Counter<'store' | 'decision'>;
  readonly decisionSeconds: Histogram<'source'>;
  readonly decisionCache: Counter<'source' | 'result'>;
}

/**
 * Event-loop delay sampling interval of the default metrics (prom-client's default: 10 ms). At 10 ms
 * the sampler alone costs ~11 ms of CPU per second at idle; 100 ms keeps the delay histogram useful
 * for ms-scale stalls at a fifth of that.
 */
export const EVENT_LOOP_PRECISION_MS = 100;

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_PRECISION_MS });
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
    decisionSeconds: new Histogram({
      name: 'sluice_access_decision_seconds',
      help: 'Time to reach an access decision, by who decided (rule, plugin, webhook, default)',
      labelNames: ['source'],
      // Rules answer in microseconds; webhooks in milliseconds up to their timeout.
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1, 2.5],
      registers: [registry],
    }),
    decisionCache: new Counter({
      name: 'sluice_decision_cache_total',
      help: 'Delegated decisions (plugin, webhook) by decision-cache result: hit or miss',
      labelNames: ['source', 'result'],
      registers: [registry],
    }),
  };
}

/**
 * A labelled child per label combination, built once: prom-client otherwise validates a fresh
 * label object on every call. Only for label values from a small fixed set (routes, methods,
 * statuses, store names, decision sources), never request data.
 */
export function childCache<Child>(make: (...values: string[]) => Child): (...values: string[]) => Child {
  const children = new Map<string, Child>();
  return (...values) => {
    const key = values.join('\u0000');
    let child = children.get(key);
    if (child === undefined) {
      child = make(...values);
      children.set(key, child);
    }
    return child;
  };
}

/** Turns a request path into the `route` label. */
export type RouteLabel = (path: string) => string;

/**
 * The label of the first path prefix that covers the path, else "other". Bounded label values:
 * never the raw path (unbounded cardinality, and keys are private).
 */
export function routeLabeler(prefixes: readonly (readonly [prefix: string, label: string])[]): RouteLabel {
  return (path) => {
    for (const [prefix, label] of prefixes) {
      if (path === prefix || path.startsWith(`${prefix}/`)) return label;
    }
    return 'other';
  };
}

/** Every route family the app serves, by the configured prefixes (more specific ones first). */
export function appRouteLabels(config: Pick<SluiceConfig, 'prefix' | 'transform' | 'nginx'>): RouteLabel {
  return routeLabeler([
    [`${config.prefix}/_share`, 'share'],
    [`${config.prefix}/_uploads`, 'uploads'],
    [config.prefix, 'files'],
    [config.transform.imgproxyPrefix, 'img'],
    [config.transform.nativePrefix, 'images'],
    // nginx's auth_request and decision subrequests
    [config.nginx.internalPrefix, 'internal'],
  ]);
}

const decisionChildren = new WeakMap<
  Metrics,
  { decisions: (store: string, effect: string) => { inc(): void }; seconds: (source: string) => { observe(v: number): void } }
>();

/** What the metrics read of a policy decision (declared here so observability sits below policy). */
export interface DecisionOutcome {
  readonly effect: string;
  readonly source?: string | undefined;
  readonly cacheHit?: boolean | undefined;
}

/** Everything one access decision contributes: outcome, latency, and cache use of delegated answers. */
export function recordDecision(metrics: Metrics, store: string, decision: DecisionOutcome, seconds: number): void {
  const source = decision.source ?? 'rule';
  let children = decisionChildren.get(metrics);
  if (children === undefined) {
    children = {
      decisions: childCache((s, effect) => metrics.decisions.labels({ store: s as string, decision: effect as string })),
      seconds: childCache((s) => metrics.decisionSeconds.labels({ source: s as string })),
    };
    decisionChildren.set(metrics, children);
  }
  children.decisions(store, decision.effect).inc();
  children.seconds(source).observe(seconds);
  if (source === 'plugin' || source === 'webhook') metrics.decisionCache.inc({ source, result: decision.cacheHit === true ? 'hit' : 'miss' });
}

/**
 * Resident set size as its own gauge (process_resident_memory_bytes exists too, but only where
 * prom-client can read /proc); the worker's memory is what operators watch during bursts.
 */
export function registerRssGauge(registry: Registry, name: string): Gauge {
  return new Gauge({
    name,
    help: 'Resident set size of this process in bytes',
    registers: [registry],
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });
}
