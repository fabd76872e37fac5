// Uploads through nginx. nginx first asks <internalPrefix>/upload-auth (auth_request, before any
// body byte is read), then:
//   PUT <prefix>/_uploads/fs/<store>/<key…>: stores the body in a temp file and passes only its
//     path (BODY_FILE_HEADER) to the app's final handler;
//   PUT <prefix>/_uploads/encrypted/<store>/<key…>: streams the body to the worker, which
//     encrypts and writes it (the auth answer carries the worker's ticket).
// The paths are the contract's (src/contract/nginx-locations.ts).
import type { Context, Middleware, Next } from 'koa';
import { notFound } from '../../errors.js';
import type { Store } from '../../storage/types.js';
import type { AccessState } from '../middleware/access-state.js';
import { rawPathOf, storeTargetOf } from '../request-target.js';

/**
 * Raw path (the request's own, or nginx's X-Original-URI) → store + canonical key, for each
 * upload route prefix and the stores it accepts (fs offload, encrypted).
 */
export function resolveUploadTarget(routes: ReadonlyMap<string, ReadonlyMap<string, Store>>, targetOf: (ctx: Context) => string): Middleware {
  return async (ctx: Context, next: Next): Promise<void> => {
    const rawPath = rawPathOf(targetOf(ctx));
    const route = [...routes].find(([routePrefix]) => rawPath.startsWith(routePrefix));
    if (route === undefined) throw notFound();
    const { store, key } = storeTargetOf(rawPath, ...route);
    const state = ctx.state as AccessState;
    state.store = store;
    state.key = key;
    state.action = 'write';
    await next();
  };
}
