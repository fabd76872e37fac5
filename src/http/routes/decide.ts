// GET|HEAD <internalPrefix>/decide — the decision nginx caches for stores with `decisionCache`
// (image URLs have their own targets, with the same carried answers: routes/images.ts)
// (docs/nginx.md "Decision cache", src/nginx/render-decision-cache.ts). nginx asks with auth_request,
// passing the client's raw request line; this runs the download pipeline of files.ts on it
// (resolve → authenticate → [rate limit] → authorize + audit → [count share-link use]) and answers
// 204 with everything nginx needs to serve the file itself, privately:
//   - allowed: the route ("serve"), the key or presigned path, the download headers, the rate,
//     and X-Accel-Expires = how long nginx may reuse this answer (src/policy/nginx-decision-ttl.ts);
//   - refused or failed: the route "error/<status>" with the app's own JSON body and headers,
//     never cacheable. (auth_request itself knows only 2xx/401/403; carrying the answer keeps
//     410, 429, 400 … exactly as a download through the app has them.)
import { createHash } from 'node:crypto';
import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import type { SluiceConfig } from '../../config/schema.js';
import { PublicError } from '../../errors.js';
import { DC, DC_ERROR_STATUSES, decideLocation } from '../../contract/decision-cache.js';
import { privateDownloadHeaders } from '../../contract/headers.js';
import { storeConstantHeaders } from '../../contract/decision-cache.js';
import { decisionCacheStores } from '../../config/decision-cache.js';
import { decisionTtl, ruleCacheSeconds, RuleFacts } from '../../policy/nginx-decision-ttl.js';
import type { Store } from '../../storage/types.js';
import { downloadHeaders } from '../download-headers.js';
import { optional, type AccessPipelineDeps, type AccessState } from '../middleware/access-state.js';
import { authenticate } from '../middleware/authenticate.js';
import { authorize } from '../middleware/authorize.js';
import { originalCredentials, originalQuery, originalTarget } from './auth-request.js';

export interface DecideRouteDeps extends AccessPipelineDeps {
  readonly config: SluiceConfig;
  readonly stores: ReadonlyMap<string, Store>;
  readonly shareLinkUse?: Middleware | undefined;
  /** Seconds since the epoch (tests). */
  readonly now?: () => number;
}

export function decideRoutes(deps: DecideRouteDeps): Router {
  const { config } = deps;
  // `<prefix>/<store>` → store, so the shared originalTarget resolves the raw path as files.ts does.
  const targets = new Map<string, Store>();
  const facts = new Map<string, RuleFacts>();
  for (const name of decisionCacheStores(config)) {
    const store = deps.stores.get(name);
    if (store === undefined) continue;
    targets.set(`${config.prefix}/${name}`, store);
    facts.set(name, new RuleFacts(config.rules, name));
  }
  const ruleSeconds = ruleCacheSeconds(config.rules);
  const now = deps.now ?? ((): number => Date.now() / 1000);
  const router = new Router();
  // @koa/router answers HEAD with the GET route.
  router.get(
    decideLocation(config.nginx.internalPrefix),
    carriedAnswers(deps),
    originalTarget(targets),
    authenticate(deps.authenticator, originalCredentials),
    ...optional(deps.rateLimit),
    authorize(deps),
    ...optional(deps.shareLinkUse),
    async (ctx: Context) => {
      const { store, key, decision, subject } = ctx.state as AccessState;
      const storeConfig = config.stores[store.name];
      const query = new URLSearchParams(originalQuery(ctx));
      const headers = downloadHeaders({
        fileName: key.segments[key.segments.length - 1] as string,
        attachment: query.get('download') === '1',
        cacheControl: store.cacheControl,
      });
      // The store's constant headers are in its nginx location: not carried (fewer values per hit).
      const constant = storeConstantHeaders(store.cacheControl);
      ctx.set(privateDownloadHeaders(Object.fromEntries(Object.entries(headers).filter(([name, value]) => constant[name] !== value))));
      // S3: the presigned path+query (HEAD and GET are signed apart; the method is in nginx's key).
      if (store.kind === 's3') ctx.set((await store.accelTarget(key, ctx.get('X-Original-Method') === 'HEAD' ? 'HEAD' : 'GET')).headers);
      // fs: the file below the root; every store: the audit line. nginx takes header bytes as they
      // are: the key's UTF-8 bytes, one latin1 char each (canonical keys hold no control characters).
      ctx.set(DC.key, Buffer.from(key.value, 'utf8').toString('latin1'));
      const ttl = decisionTtl({
        storeSeconds: storeConfig?.decisionCache?.ttlSeconds ?? 0,
        ruleSeconds: decision.ruleId === null ? undefined : ruleSeconds.get(decision.ruleId),
        decision,
        subject,
        presignSeconds: storeConfig?.type === 's3' ? storeConfig.presignTtlSeconds : undefined,
        rateLimited: deps.rateLimit !== undefined,
        facts: facts.get(store.name)?.of(key.value) ?? { timeDependent: true, delegates: true, minRuleSeconds: 0 },
        now: now(),
      });
      ctx.set({
        [DC.route]: 'serve',
        [DC.limitRate]: String(decision.limitRate ?? 0),
        [DC.subject]: logSafe(subject.id ?? '-'),
        [DC.rule]: logSafe(decision.ruleId ?? '-'),
        [DC.ttl]: `${ttl.seconds} (${ttl.bound})`,
        [DC.binding]: binding(ctx.get(DC.material)),
        'X-Accel-Expires': String(ttl.seconds),
        'Cache-Control': 'no-store',
      });
      ctx.status = 204;
    },
  );
  return router;
}

/**
 * Every answer is a 204 (anything else would be auth_request's 500): a refusal or failure travels
 * as the route "error/<status>" plus the app's JSON body and the headers that belong to it.
 */
export function carriedAnswers(deps: Pick<AccessPipelineDeps, 'logger'>) {
  return async function carriedAnswersMiddleware(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (error) {
      let status = 500;
      let reason = 'internal error';
      let headers: Readonly<Record<string, string>> = {};
      if (error instanceof PublicError) {
        ({ status, reason, headers } = error);
        if (status >= 500) deps.logger.warn({ requestId: ctx.state.requestId, status }, reason);
      } else {
        deps.logger.error({ err: error, requestId: ctx.state.requestId }, 'unhandled error');
      }
      if (!DC_ERROR_STATUSES.includes(status)) {
        status = status < 500 ? 403 : 500;
        reason = status === 403 ? 'forbidden' : 'internal error';
      }
      for (const name of Object.keys(ctx.response.headers)) if (name !== 'x-request-id') ctx.remove(name);
      ctx.set({
        [DC.route]: `error/${status}`,
        [DC.errorBody]: JSON.stringify({ error: reason }),
        [DC.retryAfter]: headers['Retry-After'] ?? '',
        [DC.wwwAuthenticate]: headers['WWW-Authenticate'] ?? '',
        [DC.subject]: logSafe((ctx.state as Partial<AccessState>).subject?.id ?? '-'),
        'X-Accel-Expires': '0',
        'Cache-Control': 'no-store',
      });
      ctx.status = 204;
      ctx.body = null;
    }
  };
}

/**
 * What nginx checks on every use of a cached answer (secure_link_md5 over the same material): the
 * cache key holds only token signatures, so a forged token carrying a copied signature finds the
 * entry but fails this check. base64url(md5), as nginx's secure_link expects it.
 */
export function binding(material: string): string {
  return createHash('md5').update(Buffer.from(material, 'latin1')).digest('base64url');
}

/** A header value for nginx's audit line: UTF-8 bytes as latin1, control characters replaced. */
export function logSafe(value: string): string {
  return Buffer.from(value.replace(/[\u0000-\u001f\u007f]/g, '?'), 'utf8').toString('latin1');
}
