// Operational endpoints on the app port: liveness, readiness, load-balancer ping, metrics, API document.
// The nginx snippet does not expose them publicly.
import { access, readFile } from 'node:fs/promises';
import Router from '@koa/router';
import { abortable } from '../../abortable.js';
import { parse as parseYaml } from 'yaml';
import type { Metrics } from '../../observability/metrics.js';
import type { SharedRedis } from '../../state/redis.js';
import type { Store } from '../../storage/types.js';

const READY_TIMEOUT_MS = 2000;

export interface OpsOptions {
  /** While this file exists `/ping` answers 404, so a load balancer drains the node. */
  readonly maintenanceFile?: string;
  /** Shared state: when configured, readiness includes it. */
  readonly redis?: SharedRedis | null;
}

export function opsRoutes(stores: ReadonlyMap<string, Store>, metrics: Metrics, options: OpsOptions = {}): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  router.get('/ping', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const maintenance = options.maintenanceFile !== undefined && (await exists(options.maintenanceFile));
    ctx.status = maintenance ? 404 : 200;
    ctx.body = maintenance ? { status: 'maintenance' } : { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const checks = [...stores.values()].map(async (store) => ({ name: store.name, ok: await within(store.check()) }));
    const redis = options.redis;
    if (redis) checks.push(within(redis.ping()).then((ok) => ({ name: 'redis', ok })));
    const results = await Promise.all(checks);
    const failing = results.filter((r) => !r.ok).map((r) => r.name);
    ctx.set('Cache-Control', 'no-store');
    ctx.status = failing.length === 0 ? 200 : 503;
    ctx.body = failing.length === 0 ? { status: 'ready' } : { status: 'not ready', failing };
  });
  router.get('/metrics', async (ctx) => {
    ctx.set('Content-Type', metrics.registry.contentType);
    ctx.body = await metrics.registry.metrics();
  });
  router.get('/openapi.json', async (ctx) => {
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = await openApiDocument();
  });
  return router;
}

/** The repository's openapi.yaml (two levels above this file in src/ and in dist/), parsed once. */
let openApi: Promise<unknown> | undefined;
function openApiDocument(): Promise<unknown> {
  openApi ??= readFile(new URL('../../../openapi.yaml', import.meta.url), 'utf8').then((text) => parseYaml(text) as unknown);
  return openApi;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

/** True when the check settles successfully within READY_TIMEOUT_MS. */
function within(check: Promise<unknown>): Promise<boolean> {
  return abortable(check, AbortSignal.timeout(READY_TIMEOUT_MS)).then(
    () => true,
    () => false,
  );
}
