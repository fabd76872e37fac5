// GET|HEAD <prefix>/<store>/<key…> — the download pipeline, one middleware per step:
// resolve target → authenticate → [rate limit] → authorize (+ audit) → [count share-link use] → deliver.
import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import { deliver } from '../../offload/deliver.js';
import type { Store } from '../../storage/types.js';
import { downloadHeaders } from '../download-headers.js';
import { rawPathOf, storeTargetOf } from '../request-target.js';
import { optional, type AccessPipelineDeps, type AccessState } from '../middleware/access-state.js';
import { authenticate } from '../middleware/authenticate.js';
import { authorize } from '../middleware/authorize.js';

export interface FileRouteDeps extends AccessPipelineDeps {
  readonly prefix: string;
  readonly stores: ReadonlyMap<string, Store>;
  /** Counts uses of counted share links, run after authorize. */
  readonly shareLinkUse?: Middleware | undefined;
}

export function fileRoutes(deps: FileRouteDeps): Router {
  const router = new Router();
  // @koa/router answers HEAD with the GET route.
  router.get(
    `${deps.prefix}/{*rest}`,
    resolveTarget(deps),
    authenticate(deps.authenticator),
    ...optional(deps.rateLimit),
    authorize(deps),
    ...optional(deps.shareLinkUse),
    async (ctx: Context) => {
      const { store, key, decision } = ctx.state as AccessState;
      ctx.set(
        downloadHeaders({
          fileName: key.segments[key.segments.length - 1] as string,
          attachment: ctx.query.download === '1',
          cacheControl: store.cacheControl,
        }),
      );
      // Bandwidth of the rule that allowed this; nginx applies it (also across X-Accel-Redirect) and never forwards it.
      if (decision.limitRate !== undefined) ctx.set('X-Accel-Limit-Rate', String(decision.limitRate));
      await deliver(ctx, store, key);
    },
  );
  return router;
}

/** Splits the RAW request path (never the router's decoded params) into store and canonical key. */
function resolveTarget(deps: FileRouteDeps) {
  const routePrefix = `${deps.prefix}/`;
  return async (ctx: Context, next: Next): Promise<void> => {
    const { store, key } = storeTargetOf(rawPathOf(ctx.req.url ?? ''), routePrefix, deps.stores);
    const state = ctx.state as AccessState;
    state.store = store;
    state.key = key;
    state.action = ctx.method === 'HEAD' ? 'head' : 'read';
    await next();
  };
}
