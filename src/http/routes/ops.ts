// Operational endpoints on the app port: liveness, readiness, Prometheus metrics.
// The nginx snippet does not expose them publicly.
import Router from '@koa/router';
import type { Metrics } from '../../observability/metrics.js';
import type { Store } from '../../storage/types.js';

const READY_TIMEOUT_MS = 2000;

export function opsRoutes(stores: ReadonlyMap<string, Store>, metrics: Metrics): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const results = await Promise.all(
      [...stores.values()].map(async (store) => ({ store: store.name, ok: await reachable(store) })),
    );
    const failing = results.filter((r) => !r.ok).map((r) => r.store);
    ctx.set('Cache-Control', 'no-store');
    ctx.status = failing.length === 0 ? 200 : 503;
    ctx.body = failing.length === 0 ? { status: 'ready' } : { status: 'not ready', failing };
  });
  router.get('/metrics', async (ctx) => {
    ctx.set('Content-Type', metrics.registry.contentType);
    ctx.body = await metrics.registry.metrics();
  });
  return router;
}

async function reachable(store: Store): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), READY_TIMEOUT_MS);
  });
  try {
    await Promise.race([store.check(), timeout]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
