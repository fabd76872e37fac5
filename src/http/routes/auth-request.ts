// GET|HEAD <internalPrefix>/auth — nginx's auth_request target, for locations nginx serves
// itself. nginx passes the client's raw request line in X-Original-URI ($request_uri) and
// X-Original-Method; the key is canonicalized exactly as on the download route, so anything
// nginx would normalize (dot segments, %2e%2e, //, %2f) is refused instead of authorized.
// Answers: 204 allowed, 401 authenticate, 403 everything else the client caused (auth_request
// knows no other statuses), 5xx when a dependency is down (nginx then answers 500: fail closed).
import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import type { Credentials } from '../../auth/types.js';
import { onlyAuthRequestStatuses } from '../middleware/auth-request-statuses.js';
import { PublicError } from '../../errors.js';
import { authRequestLocation } from '../../contract/nginx-locations.js';
import { canonicalizeKey } from '../../storage/key.js';
import type { Store } from '../../storage/types.js';
import type { AccessPipelineDeps, AccessState } from '../middleware/access-state.js';
import { authenticate, shareTokenOf, tokenCredentials } from '../middleware/authenticate.js';
import { rawPathOf } from '../request-target.js';
import { authorize } from '../middleware/authorize.js';
import { downloadHeaders } from '../download-headers.js';
import { privateDownloadHeaders } from '../../contract/headers.js';

export interface AuthRequestDeps extends AccessPipelineDeps {
  readonly internalPrefix: string;
  /** URL path prefix of each protected location → the store whose rules (and names) apply. */
  readonly locations: ReadonlyMap<string, Store>;
  readonly shareLinkUse?: Middleware | undefined;
}

export function authRequestRoutes(deps: AuthRequestDeps): Router {
  const router = new Router();
  // @koa/router answers HEAD with the GET route.
  router.get(
    authRequestLocation(deps.internalPrefix),
    onlyAuthRequestStatuses,
    originalTarget(deps.locations),
    authenticate(deps.authenticator, originalCredentials),
    ...(deps.rateLimit ? [deps.rateLimit] : []),
    authorize(deps),
    ...(deps.shareLinkUse ? [deps.shareLinkUse] : []),
    allowedWithDownloadHeaders,
  );
  return router;
}

/**
 * 204, carrying privately the headers a download of this file would have (type, disposition,
 * caching, CSP sandbox for active content, nosniff): nginx applies them to the file it serves.
 */
function allowedWithDownloadHeaders(ctx: Context): void {
  const { store, key } = ctx.state as AccessState;
  const query = new URLSearchParams(originalQuery(ctx));
  const headers = downloadHeaders({
    fileName: key.segments[key.segments.length - 1] as string,
    attachment: query.get('download') === '1',
    cacheControl: store.cacheControl,
  });
  ctx.set(privateDownloadHeaders(headers));
  ctx.status = 204;
  ctx.set('Cache-Control', 'no-store'); // the decision itself is never cached
}

export function originalQuery(ctx: Context): string {
  const uri = ctx.get('X-Original-URI');
  const query = uri.indexOf('?');
  return query < 0 ? '' : uri.slice(query + 1);
}

/** The original request's raw path (never nginx's normalized $uri) → store + canonical key. */
export function originalTarget(locations: ReadonlyMap<string, Store>) {
  // Longest prefix first, as nginx picks among prefix locations.
  const ordered = [...locations].sort(([a], [b]) => b.length - a.length);
  return async (ctx: Context, next: Next): Promise<void> => {
    const uri = ctx.get('X-Original-URI');
    const method = ctx.get('X-Original-Method');
    if (method !== 'GET' && method !== 'HEAD') throw new PublicError(405, 'method not allowed');
    const rawPath = rawPathOf(uri);
    const match = ordered.find(([prefix]) => rawPath.startsWith(`${prefix}/`));
    if (match === undefined) throw new PublicError(404, 'not a protected location');
    const state = ctx.state as AccessState;
    state.store = match[1];
    state.key = canonicalizeKey(rawPath.slice(match[0].length + 1));
    state.action = method === 'HEAD' ? 'head' : 'read';
    await next();
  };
}

/** The subrequest carries the client's headers; a share link comes from the original query. */
export function originalCredentials(ctx: Context): Credentials {
  const uri = ctx.get('X-Original-URI');
  const query = uri.indexOf('?');
  return { ...tokenCredentials(ctx), shareToken: query < 0 ? undefined : shareTokenOf(uri.slice(query + 1)) };
}
