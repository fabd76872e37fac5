// fs uploads through nginx: PUT <prefix>/_uploads/fs/<store>/<key…>. nginx first asks
// <internalPrefix>/upload-auth (auth_request, before any body byte is read), then stores the body
// in a temp file and passes only its path (X-Sluice-Body-File) to the final handler.
import type { Context, Middleware, Next } from 'koa';
import { notFound, PublicError } from '../errors.js';
import { canonicalizeKey } from '../storage/key.js';
import type { Store } from '../storage/types.js';
import type { AccessState } from '../http/middleware/access-state.js';

export const BODY_FILE_HEADER = 'X-Sluice-Body-File';

export function fsUploadPath(prefix: string): string {
  return `${prefix}/_uploads/fs/`;
}

export function uploadAuthLocation(internalPrefix: string): string {
  return `${internalPrefix}/upload-auth`;
}

/** Raw path (the request's own, or nginx's X-Original-URI) → upload-enabled fs store + canonical key. */
export function resolveFsTarget(prefix: string, stores: ReadonlyMap<string, Store>, rawPathOf: (ctx: Context) => string): Middleware {
  const routePrefix = fsUploadPath(prefix);
  return async (ctx: Context, next: Next): Promise<void> => {
    const rawPath = rawPathOf(ctx).split('?', 1)[0] as string;
    if (!rawPath.startsWith(routePrefix)) throw notFound();
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
