// GET|HEAD <prefix>/<store>/<key…> — the download pipeline, one middleware per step:
// resolve target → authenticate → [rate limit] → authorize (+ audit) → [count share-link use] → deliver.
import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import { notFound, PublicError } from '../../errors.js';
import { deliver } from '../../offload/deliver.js';
import { canonicalizeKey } from '../../storage/key.js';
import type { Store } from '../../storage/types.js';
import { downloadHeaders } from '../download-headers.js';
import { rawPathOf } from '../request-target.js';
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
  router.get(`${deps.prefix}/{*rest}`, resolveTarget(deps), authenticate(deps.authenticator), ...optional(deps.rateLimit), authorize(deps), ...optional(deps.shareLinkUse), async (ctx: Context) => {
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
  });
  return router;
}

/** Splits the RAW request path (never the router's decoded params) into store and canonical key. */
function resolveTarget(deps: FileRouteDeps) {
  const routePrefix = `${deps.prefix}/`;
  return async (ctx: Context, next: Next): Promise<void> => {
    const rawPath = rawPathOf(ctx.req.url ?? '');
    if (!rawPath.startsWith(routePrefix)) throw notFound();
    const rest = rawPath.slice(routePrefix.length);
    const slash = rest.indexOf('/');
    const storeName = slash < 0 ? rest : rest.slice(0, slash);
    const store = deps.stores.get(storeName);
    if (store === undefined) throw notFound('unknown store');
    if (slash < 0) throw new PublicError(400, 'missing key');
    const state = ctx.state as AccessState;
    state.store = store;
    state.key = canonicalizeKey(rest.slice(slash + 1));
    state.action = ctx.method === 'HEAD' ? 'head' : 'read';
    await next();
  };
}
