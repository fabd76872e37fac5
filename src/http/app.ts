// The Koa app: small middlewares composed in one direction (Koa's own style).
import type Router from '@koa/router';
import Koa, { type Context, type Next } from 'koa';
import type { Logger } from '../observability/logger.js';
import { childCache, routeLabeler, type Metrics, type RouteLabel } from '../observability/metrics.js';
import { errorResponses } from './error-responses.js';
import { requestId } from './request-id.js';
import { fileRoutes, type FileRouteDeps } from './routes/files.js';
import { opsRoutes, type OpsOptions } from './routes/ops.js';

export interface AppDeps extends FileRouteDeps {
  /** Further routers (images, sharing, auth_request …), built by the composition root. */
  readonly extraRoutes?: readonly Router[];
  /** Maintenance file and Redis for /ping and /readyz. */
  readonly ops?: OpsOptions;
  /** The `route` label of a request path (default: "files" under the prefix, else "other"). */
  readonly routeLabel?: RouteLabel;
}

const OPS_PATHS = new Set(['/healthz', '/readyz', '/ping', '/metrics', '/openapi.json']);

export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  app.proxy = true; // behind nginx
  app.silent = true; // errors are logged by errorResponses, once, as JSON
  const files = fileRoutes(deps);
  const ops = opsRoutes(deps.stores, deps.metrics, deps.ops);
  app.use(requestId);
  app.use(accessLog(deps.logger, deps.metrics, deps.routeLabel ?? routeLabeler([[deps.prefix, 'files']])));
  app.use(errorResponses(deps.logger));
  app.use(files.routes());
  app.use(files.allowedMethods());
  for (const router of deps.extraRoutes ?? []) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  app.use(ops.routes());
  app.use(ops.allowedMethods());
  return app;
}

function accessLog(logger: Logger, metrics: Metrics, routeLabel: RouteLabel) {
  const requests = childCache((route, method, status) =>
    metrics.requests.labels({ route: route as string, method: method as string, status: status as string }),
  );
  const duration = childCache((route) => metrics.duration.labels({ route: route as string }));
  return async (ctx: Context, next: Next): Promise<void> => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const route = OPS_PATHS.has(ctx.path) ? ctx.path : routeLabel(ctx.path);
      const seconds = (performance.now() - started) / 1000;
      // Methods are a small set too (Node's parser refuses unknown ones).
      requests(route, ctx.method, String(ctx.status)).inc();
      duration(route).observe(seconds);
      if (logger.isLevelEnabled('debug'))
        logger.debug({ requestId: ctx.state.requestId, method: ctx.method, route, status: ctx.status, ms: Number((seconds * 1000).toFixed(3)) }, 'request');
    }
  };
}
