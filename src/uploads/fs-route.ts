// Uploads through nginx. nginx first asks <internalPrefix>/upload-auth (auth_request, before any
// body byte is read), then:
//   PUT <prefix>/_uploads/fs/<store>/<key…>: stores the body in a temp file and passes only its
//     path (X-Sluice-Body-File) to the app's final handler;
//   PUT <prefix>/_uploads/encrypted/<store>/<key…>: streams the body to the worker, which
//     encrypts and writes it (the auth answer carries the worker's ticket).
import type { Context, Middleware, Next } from 'koa';
import { notFound, PublicError } from '../errors.js';
import { rawPathOf } from '../http/request-target.js';
import { canonicalizeKey } from '../storage/key.js';
import type { Store } from '../storage/types.js';
import type { AccessState } from '../http/middleware/access-state.js';

export const BODY_FILE_HEADER = 'X-Sluice-Body-File';

export function fsUploadPath(prefix: string): string {
  return `${prefix}/_uploads/fs/`;
}

/** Uploads to encrypted stores (fs or s3): nginx streams the body to the worker, which encrypts. */
export function encryptedUploadPath(prefix: string): string {
  return `${prefix}/_uploads/encrypted/`;
}

export function uploadAuthLocation(internalPrefix: string): string {
  return `${internalPrefix}/upload-auth`;
}

/**
 * Raw path (the request's own, or nginx's X-Original-URI) → store + canonical key, for each
 * upload route prefix and the stores it accepts (fs offload, encrypted).
 */
export function resolveUploadTarget(routes: ReadonlyMap<string, ReadonlyMap<string, Store>>, targetOf: (ctx: Context) => string): Middleware {
  return async (ctx: Context, next: Next): Promise<void> => {
    const rawPath = rawPathOf(targetOf(ctx));
    const route = [...routes].find(([routePrefix]) => rawPath.startsWith(routePrefix));
    if (route === undefined) throw notFound();
    const [routePrefix, stores] = route;
    const rest = rawPath.slice(routePrefix.length);
    const slash = rest.indexOf('/');
    const store = slash < 0 ? undefined : stores.get(rest.slice(0, slash));
    if (store === undefined) throw notFound('unknown store');
    const key = canonicalizeKey(rest.slice(slash + 1));
    const state = ctx.state as AccessState;
    state.store = store;
    state.key = key;
    state.action = 'write';
    await next();
  };
}

/** auth_request knows only 2xx, 401 and 403: every other refusal the client caused becomes 403. */
export async function onlyAuthRequestStatuses(ctx: Context, next: Next): Promise<void> {
  try {
    await next();
  } catch (error) {
    if (error instanceof PublicError && error.status !== 401 && error.status < 500) throw new PublicError(403, 'forbidden', {}, error);
    throw error;
  }
}
