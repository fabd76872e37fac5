// The app's and the worker's Prometheus metrics: names, labels and what records them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Context } from 'koa';
import type { Subject } from '../../src/auth/types.js';
import type { AccessState } from '../../src/http/middleware/access-state.js';
import { authorize } from '../../src/http/middleware/authorize.js';
import { createLogger } from '../../src/observability/logger.js';
import { appRouteLabels, createMetrics, recordDecision, registerRssGauge } from '../../src/observability/metrics.js';
import type { Decision, Policy } from '../../src/policy/types.js';
import type { Store } from '../../src/storage/types.js';
import { createWorkerMetrics } from '../../src/worker/metrics.js';
import type { Limiter } from '../../src/worker/transform/queue.js';

/** The value of one sample line of the Prometheus text format, or undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const have = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(match[3]);
  }
  return undefined;
}

const alice: Subject = { authenticated: true, id: 'alice', claims: { sub: 'alice' } };

function authorizeOnce(policy: Policy, metrics = createMetrics()) {
  const state = {
    requestId: 'r1',
    store: { name: 'media' } as Store,
    key: { segments: ['a.jpg'], value: 'a.jpg' },
    action: 'read',
    subject: alice,
  } as unknown as AccessState;
  const run = authorize({ policy, logger: createLogger('silent'), metrics })({ state } as unknown as Context, async () => undefined);
  return { metrics, run };
}

describe('app metrics', () => {
  it('records decisions by outcome, latency by source, and cache hits of delegated answers', async () => {
    const metrics = createMetrics();
    const decision = (d: Partial<Decision>): Decision => ({ effect: 'allow', ruleId: 'r', reason: 'test', ...d });
    recordDecision(metrics, 'media', decision({ source: 'rule' }), 0.0002);
    recordDecision(metrics, 'media', decision({ source: 'webhook', cacheHit: false }), 0.02);
    recordDecision(metrics, 'media', decision({ source: 'webhook', cacheHit: true }), 0.0003);
    recordDecision(metrics, 'media', decision({ source: 'plugin', cacheHit: true, effect: 'deny' }), 0.0004);
    recordDecision(metrics, 'docs', decision({ effect: 'deny', ruleId: null, source: 'default' }), 0.0001);
    const text = await metrics.registry.metrics();
    assert.equal(sample(text, 'sluice_access_decisions_total', { store: 'media', decision: 'allow' }), 3);
    assert.equal(sample(text, 'sluice_access_decisions_total', { store: 'media', decision: 'deny' }), 1);
    assert.equal(sample(text, 'sluice_access_decisions_total', { store: 'docs', decision: 'deny' }), 1);
    assert.equal(sample(text, 'sluice_access_decision_seconds_count', { source: 'webhook' }), 2);
    assert.equal(sample(text, 'sluice_access_decision_seconds_bucket', { source: 'webhook', le: '0.001' }), 1);
    assert.equal(sample(text, 'sluice_access_decision_seconds_count', { source: 'default' }), 1);
    assert.equal(sample(text, 'sluice_decision_cache_total', { source: 'webhook', result: 'hit' }), 1);
    assert.equal(sample(text, 'sluice_decision_cache_total', { source: 'webhook', result: 'miss' }), 1);
    assert.equal(sample(text, 'sluice_decision_cache_total', { source: 'plugin', result: 'hit' }), 1);
    // Rules are never cached: no cache sample for them.
    assert.equal(sample(text, 'sluice_decision_cache_total', { source: 'rule' }), undefined);
  });

  it('the authorize middleware records every decision it makes', async () => {
    const policy: Policy = { decide: async () => ({ effect: 'allow', ruleId: 'host', reason: 'ok', source: 'webhook', cacheHit: true }) };
    const { metrics, run } = authorizeOnce(policy);
    await run;
    const text = await metrics.registry.metrics();
    assert.equal(sample(text, 'sluice_access_decisions_total', { store: 'media', decision: 'allow' }), 1);
    assert.equal(sample(text, 'sluice_access_decision_seconds_count', { source: 'webhook' }), 1);
    assert.equal(sample(text, 'sluice_decision_cache_total', { source: 'webhook', result: 'hit' }), 1);

    const denied = authorizeOnce({ decide: async () => ({ effect: 'deny', ruleId: null, reason: 'no rule', source: 'default' }) });
    await assert.rejects(denied.run, { status: 403 });
    assert.equal(sample(await denied.metrics.registry.metrics(), 'sluice_access_decisions_total', { decision: 'deny' }), 1);
  });

  it('keeps instances apart and reports this process’s RSS', async () => {
    const one = createMetrics();
    const two = createMetrics();
    one.requests.inc({ route: 'files', method: 'GET', status: '200' });
    assert.equal(sample(await one.registry.metrics(), 'sluice_http_requests_total', { route: 'files', status: '200' }), 1);
    assert.equal(sample(await two.registry.metrics(), 'sluice_http_requests_total'), undefined);
    registerRssGauge(two.registry, 'test_rss_bytes');
    const rss = sample(await two.registry.metrics(), 'test_rss_bytes');
    assert.ok(rss !== undefined && rss > 10 * 1024 * 1024, `rss ${String(rss)}`);
  });
});

describe('route labels', () => {
  const label = appRouteLabels({
    prefix: '/files',
    transform: { imgproxyPrefix: '/img', nativePrefix: '/images' },
    nginx: { internalPrefix: '/_sluice' },
  } as Parameters<typeof appRouteLabels>[0]);

  it('names every route family the app serves, never by the raw path', () => {
    assert.equal(label('/files/docs/report.pdf'), 'files');
    assert.equal(label('/files/_share'), 'share');
    assert.equal(label('/files/_share/links/abc'), 'share');
    assert.equal(label('/files/_uploads/xyz/complete'), 'uploads');
    assert.equal(label('/img/sig/rs:fill:300:200/plain/docs/a.jpg'), 'img');
    assert.equal(label('/images/docs/a.jpg'), 'images');
    assert.equal(label('/_sluice/auth'), 'internal');
  });

  it('calls anything else "other", prefixes matching whole segments only', () => {
    assert.equal(label('/imgx/a.jpg'), 'other');
    assert.equal(label('/filesystem'), 'other');
    assert.equal(label('/'), 'other');
  });
});

describe('worker metrics', () => {
  it('exposes queue depth, in-flight renders, render duration and RSS', async () => {
    const limiter = { active: 3, waiting: 7, run: async <T>(task: () => Promise<T>) => task() } as Limiter;
    const metrics = createWorkerMetrics(limiter);
    metrics.duration.observe({ format: 'avif' }, 0.12);
    metrics.renders.inc({ status: '200' });
    const text = await metrics.registry.metrics();
    assert.equal(sample(text, 'sluice_worker_active'), 3);
    assert.equal(sample(text, 'sluice_worker_waiting'), 7);
    assert.equal(sample(text, 'sluice_worker_render_seconds_count', { format: 'avif' }), 1);
    assert.equal(sample(text, 'sluice_worker_requests_total', { status: '200' }), 1);
    assert.ok((sample(text, 'sluice_worker_rss_bytes') ?? 0) > 10 * 1024 * 1024);
  });
});
