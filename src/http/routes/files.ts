// GET|HEAD <prefix>/<store>/<key…> — the download pipeline, one middleware per step:
// resolve target → authenticate → authorize (+ audit) → deliver.
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { Authenticator, Subject } from '../../auth/types.js';
import type { Action } from '../../config/schema.js';
import { notFound, PublicError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import { deliver } from '../../offload/deliver.js';
import type { Policy } from '../../policy/types.js';
import { canonicalizeKey } from '../../storage/key.js';
import type { CanonicalKey, Store } from '../../storage/types.js';
import { downloadHeaders } from '../download-headers.js';

export interface FileRouteDeps {
  readonly prefix: string;
  readonly stores: ReadonlyMap<string, Store>;
  readonly authenticator: Authenticator;
  readonly policy: Policy;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

interface FileState {
  requestId: string;
  store: Store;
  key: CanonicalKey;
  subject: Subject;
}

export function fileRoutes(deps: FileRouteDeps): Router {
  const router = new Router();
  // @koa/router answers HEAD with the GET route.
  router.get(
    `${deps.prefix}/{*rest}`,
    resolveTarget(deps),
    authenticate(deps),
    authorize(deps),
    async (ctx: Context) => {
      const { store, key } = ctx.state as FileState;
      ctx.set(
        downloadHeaders({
          fileName: key.segments[key.segments.length - 1] as string,
          attachment: ctx.query.download === '1',
          cacheControl: store.cacheControl,
        }),
      );
      await deliver(ctx, store, key);
    },
  );
  return router;
}

/** Splits the RAW request path (never the router's decoded params) into store and canonical key. */
function resolveTarget(deps: FileRouteDeps) {
  const routePrefix = `${deps.prefix}/`;
  return async (ctx: Context, next: Next): Promise<void> => {
    const rawPath = (ctx.req.url ?? '').split('?', 1)[0] as string;
    if (!rawPath.startsWith(routePrefix)) throw notFound();
    const rest = rawPath.slice(routePrefix.length);
    const slash = rest.indexOf('/');
    const storeName = slash < 0 ? rest : rest.slice(0, slash);
    const store = deps.stores.get(storeName);
    if (store === undefined) throw notFound('unknown store');
    if (slash < 0) throw new PublicError(400, 'missing key');
    const state = ctx.state as FileState;
    state.store = store;
    state.key = canonicalizeKey(rest.slice(slash + 1));
    await next();
  };
}

function authenticate(deps: FileRouteDeps) {
  return async (ctx: Context, next: Next): Promise<void> => {
    (ctx.state as FileState).subject = await deps.authenticator.authenticate({
      authorization: ctx.get('Authorization') || undefined,
      cookie: ctx.get('Cookie') || undefined,
    });
    await next();
  };
}

function authorize(deps: FileRouteDeps) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const state = ctx.state as FileState;
    const started = performance.now();
    const action: Action = ctx.method === 'HEAD' ? 'head' : 'read';
    const decision = await deps.policy.decide({ store: state.store.name, key: state.key, action }, state.subject);
    deps.metrics.decisions.inc({ store: state.store.name, decision: decision.effect });
    deps.logger.info(
      {
        audit: {
          requestId: state.requestId,
          subject: state.subject.id,
          authenticated: state.subject.authenticated,
          store: state.store.name,
          key: state.key.value,
          action,
          decision: decision.effect,
          rule: decision.ruleId,
          reason: decision.reason,
          latencyMs: Number((performance.now() - started).toFixed(3)),
        },
      },
      'access decision',
    );
    if (decision.effect === 'allow') {
      await next();
      return;
    }
    // An anonymous caller might be allowed once authenticated: 401 invites that; 403 does not.
    if (!state.subject.authenticated) {
      throw new PublicError(401, 'authentication required', { 'WWW-Authenticate': 'Bearer realm="sluice"' });
    }
    throw new PublicError(403, 'forbidden');
  };
}
