// Image transforms, two ways in, one way out:
//   GET|HEAD <imgproxyPrefix>/<signature>/<options…>/<source>   imgproxy URL: the signature is the authorization
//   GET|HEAD <nativePrefix>/<store>/<key…>?rs=fit:400:300…      token + policy, action "transform"
// Both end in an empty 200 with X-Accel-Redirect to the internal image location: nginx serves the
// cached result or asks the worker, carrying the app's signed ticket. The app never touches pixels.
// With transform.decisionCache on, nginx asks instead with auth_request at
// <internalPrefix>/decide-img/<form> and keeps the answer (decision + ticket + result key) for
// up to its TTL (docs/nginx.md "Decision cache"): the same pipeline runs on the original request line.
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { ANONYMOUS } from '../../auth/types.js';
import type { SluiceConfig } from '../../config/schema.js';
import { assertWorkerSecret } from '../../config/worker-schema.js';
import { notFound, PublicError } from '../../errors.js';
import { IMAGE_CACHE_CONTROL_HEADER } from '../../contract/headers.js';
import { imageLocation } from '../../contract/nginx-locations.js';
import { CACHE_KEY_HEADER, TICKET_HEADER, TICKET_TTL_SECONDS } from '../../contract/tickets.js';
import { DC, imageDecideLocation, type ImageForm } from '../../contract/decision-cache.js';
import { imageDecisionCacheOn } from '../../config/decision-cache.js';
import { decisionTtl, ruleCacheSeconds, RuleFacts, transformDecisionTtl, type DecisionTtl } from '../../policy/nginx-decision-ttl.js';
import type { Decision } from '../../policy/types.js';
import { canonicalizeKey } from '../../storage/key.js';
import type { CanonicalKey, Store } from '../../storage/types.js';
import type { TransformConfig } from '../../config/transform-schema.js';
import { requestFormat } from '../../transform/format.js';
import { cacheKey, signTicket, type SourceLocator } from '../../transform/internal-token.js';
import type { SourceRef, TransformPlan } from '../../transform/plan.js';
import { assertRequestWithinLimits } from '../../transform/request-limits.js';
import { renderSettingsDigest, resultKey as storedResultKey } from '../../transform/result-key.js';
import { parseImgproxyPath, parseNativeOptions } from '../../transform/url.js';
import { optional, type AccessPipelineDeps, type AccessState } from '../middleware/access-state.js';
import { authenticate } from '../middleware/authenticate.js';
import { auditDecision, authorize } from '../middleware/authorize.js';
import { rateLimitKey } from '../middleware/rate-limit.js';
import { rawPathOf, storeTargetOf } from '../request-target.js';
import { originalCredentials, originalQuery } from './auth-request.js';
import { binding, carriedAnswers, logSafe } from './decide.js';

/** rateLimit applies to the native form: floods of unique sizes are floods of renders. */
export interface ImageRouteDeps extends AccessPipelineDeps {
  readonly config: SluiceConfig;
  readonly stores: ReadonlyMap<string, Store>;
}

interface ImageState extends AccessState {
  plan: TransformPlan;
}

/** Where a pipeline reads the request it decides: its own, or the one nginx asks about. */
interface RequestView {
  /** The RAW path (never the router's decoded params: the key is canonicalized once). */
  readonly path: (ctx: Context) => string;
  readonly query: (ctx: Context) => string;
}

const OWN_REQUEST: RequestView = { path: (ctx) => rawPathOf(ctx.req.url ?? ''), query: (ctx) => ctx.querystring };
/** auth_request: the client's raw request line, as nginx passes it (X-Original-URI). */
const ORIGINAL_REQUEST: RequestView = { path: (ctx) => rawPathOf(ctx.get('X-Original-URI')), query: originalQuery };

export function imageRoutes(deps: ImageRouteDeps): Router {
  const secret = assertWorkerSecret(deps.config.worker);
  const { imgproxyPrefix, nativePrefix } = deps.config.transform;
  const prepare = prepareTransform(deps, secret);
  const router = new Router();
  router.get(`${imgproxyPrefix}/{*rest}`, resolveSigned(deps, imgproxyPrefix, OWN_REQUEST), redirected(deps, prepare));
  router.get(
    `${nativePrefix}/{*rest}`,
    resolveNative(deps, nativePrefix, OWN_REQUEST),
    authenticate(deps.authenticator),
    ...optional(deps.rateLimit),
    authorize(deps),
    nativeOptions(deps, OWN_REQUEST),
    redirected(deps, prepare),
  );
  if (imageDecisionCacheOn(deps.config)) {
    // The decisions nginx caches (auth_request targets, internal): every answer is a 204.
    const internal = deps.config.nginx.internalPrefix;
    router.get(
      imageDecideLocation(internal, 'imgproxy'),
      carriedAnswers(deps),
      originalMethod,
      resolveSigned(deps, imgproxyPrefix, ORIGINAL_REQUEST),
      decided(deps, prepare, 'imgproxy'),
    );
    router.get(
      imageDecideLocation(internal, 'native'),
      carriedAnswers(deps),
      originalMethod,
      resolveNative(deps, nativePrefix, ORIGINAL_REQUEST),
      authenticate(deps.authenticator, originalCredentials),
      ...optional(deps.rateLimit),
      authorize(deps),
      nativeOptions(deps, ORIGINAL_REQUEST),
      decided(deps, prepare, 'native'),
    );
  }
  return router;
}

/** Options are read after the decision: an unauthorized caller learns nothing from them. */
function nativeOptions(deps: ImageRouteDeps, view: RequestView) {
  return async (ctx: Context, next: Next): Promise<void> => {
    (ctx.state as ImageState).plan = parseNativeOptions(new URLSearchParams(view.query(ctx)), deps.config.transform);
    await next();
  };
}

/** The image routes answer GET and HEAD (the router's own 405 for the rest). */
async function originalMethod(ctx: Context, next: Next): Promise<void> {
  const method = ctx.get('X-Original-Method');
  if (method !== 'GET' && method !== 'HEAD') throw new PublicError(405, 'method not allowed');
  await next();
}

/** The raw path after `<prefix>/`. */
function pathAfter(raw: string, prefix: string): string {
  if (!raw.startsWith(`${prefix}/`)) throw notFound();
  return raw.slice(prefix.length + 1);
}

/** A signed imgproxy URL: no token, no rule; the signature allowed it. */
const SIGNATURE_DECISION: Decision = Object.freeze({ effect: 'allow', ruleId: null, source: 'imgproxy-signature', reason: 'valid signature' });

/** imgproxy form: the verified signature (and expiry) is the decision; it is audited like one. */
function resolveSigned(deps: ImageRouteDeps, prefix: string, view: RequestView) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const started = performance.now();
    const parsed = parseImgproxyPath(`/${pathAfter(view.path(ctx), prefix)}`, deps.config.transform);
    const state = ctx.state as ImageState;
    const target = sourceTarget(parsed.source, deps);
    state.store = target.store;
    state.key = target.key;
    state.action = 'transform';
    state.plan = parsed.plan;
    state.subject = ANONYMOUS;
    state.decision = SIGNATURE_DECISION;
    deps.metrics.decisions.inc({ store: target.store.name, decision: 'allow' });
    auditDecision(deps.logger, state, state.decision, performance.now() - started);
    await next();
  };
}

/** `local:///path` → transform.localStore; `s3://bucket/key` → the S3 store of that bucket. */
function sourceTarget(source: SourceRef, deps: ImageRouteDeps): { store: Store; key: CanonicalKey } {
  let storeName: string | undefined;
  let path: string;
  if (source.kind === 'local') {
    storeName = deps.config.transform.localStore;
    path = source.path;
  } else if (source.kind === 's3') {
    storeName = Object.entries(deps.config.stores).find(([, s]) => s.type === 's3' && s.bucket === source.bucket)?.[0];
    path = source.key;
  } else {
    storeName = source.store;
    path = source.key;
  }
  const store = storeName === undefined ? undefined : deps.stores.get(storeName);
  if (store === undefined) throw notFound('source not allowed');
  // Same canonical key as downloads: traversal and ambiguous spellings are refused (400).
  return { store, key: canonicalizeKey(path.split('/').map(encodeURIComponent).join('/')) };
}

/** Native form: <prefix>/<store>/<key…>, split on the raw path exactly like downloads. */
function resolveNative(deps: ImageRouteDeps, prefix: string, view: RequestView) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const { store, key } = storeTargetOf(view.path(ctx), `${prefix}/`, deps.stores);
    const state = ctx.state as ImageState;
    state.store = store;
    state.key = key;
    state.action = 'transform';
    await next();
  };
}

/** What an allowed transform hands to nginx, whichever way nginx asked. */
interface PreparedTransform {
  readonly ticket: string;
  readonly ticketExpires: number;
  readonly resultKey: string;
  readonly cacheControl: string;
  readonly varyAccept: boolean;
  /** The worker's budget client named in the ticket. */
  readonly client: string;
  /** Lifetime of the presigned source URL in the ticket (S3 sources). */
  readonly presignSeconds?: number;
}

function prepareTransform(deps: ImageRouteDeps, secret: string) {
  const { worker, transform } = deps.config;
  // Quality, watermark and limits change the bytes: they are part of every result's key.
  const settings = renderSettingsDigest(worker);
  return async (ctx: Context): Promise<PreparedTransform> => {
    const { store, key, plan } = ctx.state as ImageState;
    // Refused before any I/O: a result or blur beyond the worker's limits (400, with the limit).
    if (!plan.raw) assertRequestWithinLimits(plan, worker.limits);
    // The source's version goes into the cache key: a changed file is never served stale.
    const info = await store.stat(key);
    if (info === null) throw notFound('source not found');
    const validator = info.etag ?? `${info.size}-${info.lastModified?.getTime() ?? 0}`;
    const fileName = key.segments[key.segments.length - 1] as string;
    // The format is decided by the worker from the source's bytes (never from its name): the app
    // only fixes what the URL and Accept allow, and the cache key carries exactly that.
    const { fixed, negotiable, varyAccept } = requestFormat(plan, ctx.get('Accept'), {
      negotiate: worker.negotiate,
      preferAvif: worker.preferAvif,
      autoAvif: worker.autoAvif,
      autoWebp: worker.autoWebp,
      enforceAvif: worker.enforceAvif,
      enforceWebp: worker.enforceWebp,
    });
    // imgproxy's naming: the filename option (or the source's stem) plus the result's extension,
    // which only the worker knows: it writes Content-Disposition, and the name is in the key.
    const download = { stem: plan.filename ?? (fileName.replace(/\.[^.]*$/, '') || 'image'), attachment: plan.returnAttachment };
    const resultKey = cacheKey({ plan, store: store.name, key: key.value, validator, format: fixed, negotiable, download, settings });
    // Results of encrypted sources never leave the worker tier in plaintext; raw is the source itself.
    const stored = transform.resultStore !== undefined && !store.encrypted && !plan.raw;
    const result = stored
      ? { key: storedResultKey({ plan, store: store.name, key: key.value, version: validator, format: fixed, negotiable, settings }), settings }
      : undefined;
    // Encrypted sources are read (and decrypted) by the worker itself, never through a URL.
    const presigned = store.kind === 's3' && !store.encrypted;
    const source: SourceLocator = presigned
      ? { kind: 'url', url: await store.presignedUrl(key, 'GET') }
      : { kind: 'store', store: store.name, segments: key.segments };
    // The worker's per-client concurrency and render budget are kept per token subject (or share
    // link). Signed imgproxy URLs carry no subject, and their key is shared by every user of the
    // host app: the client's address is what tells one user from another there.
    const client = rateLimitKey(ctx);
    const ticketExpires = Math.floor(Date.now() / 1000) + TICKET_TTL_SECONDS;
    const ticket = signTicket(
      { plan, source, format: fixed, negotiable, download, cacheKey: resultKey, expires: ticketExpires, client, ...(result !== undefined && { result }) },
      secret,
    );
    const presignSeconds = presigned ? presignTtlOf(deps.config, store.name) : undefined;
    return {
      ticket,
      ticketExpires,
      resultKey,
      cacheControl: resultCacheControl(transform, plan, store.cacheControl),
      varyAccept,
      client,
      ...(presignSeconds !== undefined && { presignSeconds }),
    };
  };
}

function presignTtlOf(config: SluiceConfig, storeName: string): number {
  const store = config.stores[storeName];
  // Every S3 store has one (default 60 s); a store the config does not name (cannot happen) is never cached.
  return store?.type === 's3' ? store.presignTtlSeconds : 0;
}

/** The app's own answer: an empty 200 whose X-Accel-Redirect nginx follows to the image location. */
function redirected(deps: ImageRouteDeps, prepare: ReturnType<typeof prepareTransform>) {
  const location = imageLocation(deps.config.nginx.internalPrefix);
  return async (ctx: Context): Promise<void> => {
    const prepared = await prepare(ctx);
    ctx.set({
      // Charset-less (Koa's empty body would be text/plain; charset=utf-8, and nginx keeps a
      // charset it saw here on the worker's type); the worker's Content-Type is the one served.
      'Content-Type': 'application/octet-stream',
      [IMAGE_CACHE_CONTROL_HEADER]: prepared.cacheControl,
      // nosniff and imgproxy's CSP are added by the image location itself, to every answer.
      ...(prepared.varyAccept && { Vary: 'Accept' }),
      [TICKET_HEADER]: prepared.ticket,
      [CACHE_KEY_HEADER]: prepared.resultKey,
      'X-Accel-Redirect': location,
    });
    ctx.status = 200;
    ctx.body = '';
  };
}

/**
 * The answer nginx caches (transform.decisionCache): a 204 carrying the same ticket, result key
 * and headers, the audit fields, and X-Accel-Expires = how long the whole answer may be reused.
 */
function decided(deps: ImageRouteDeps, prepare: ReturnType<typeof prepareTransform>, form: ImageForm) {
  const { config } = deps;
  const setting = config.transform.decisionCache.ttlSeconds;
  const ruleSeconds = ruleCacheSeconds(config.rules);
  const facts = new Map<string, RuleFacts>();
  const factsOf = (store: string): RuleFacts => {
    let result = facts.get(store);
    if (result === undefined) {
      result = new RuleFacts(config.rules, store);
      facts.set(store, result);
    }
    return result;
  };
  return async (ctx: Context): Promise<void> => {
    const state = ctx.state as ImageState;
    const prepared = await prepare(ctx);
    const now = Date.now() / 1000;
    const authorization: DecisionTtl =
      form === 'native'
        ? decisionTtl({
            storeSeconds: setting,
            setting: 'transform',
            ruleSeconds: state.decision.ruleId === null ? undefined : ruleSeconds.get(state.decision.ruleId),
            decision: state.decision,
            subject: state.subject,
            rateLimited: deps.rateLimit !== undefined,
            facts: factsOf(state.store.name).of(state.key.value),
            now,
          })
        : // The signature is the whole authorization: no token, no rule, no link.
          { seconds: setting, bound: 'transform' };
    const ttl = transformDecisionTtl({
      authorization,
      ticketExpires: prepared.ticketExpires,
      presignSeconds: prepared.presignSeconds,
      workerTimeoutSeconds: Math.ceil(config.worker.requestTimeoutMs / 1000),
      urlExpires: state.plan.expires,
      clockedCacheControl: config.transform.ttl !== undefined && state.plan.expires !== null,
      // An address-keyed budget (no subject) must be the address nginx keyed this entry on.
      clientOutsideKey: prepared.client.startsWith('ip:') && prepared.client !== `ip:${ctx.get(DC.client)}`,
      now,
    });
    ctx.set({
      [IMAGE_CACHE_CONTROL_HEADER]: prepared.cacheControl,
      ...(prepared.varyAccept && { [DC.vary]: 'Accept' }),
      [TICKET_HEADER]: prepared.ticket,
      [CACHE_KEY_HEADER]: prepared.resultKey,
      [DC.route]: 'serve',
      [DC.store]: state.store.name,
      [DC.key]: Buffer.from(state.key.value, 'utf8').toString('latin1'),
      [DC.subject]: logSafe(state.subject?.id ?? '-'),
      [DC.rule]: form === 'native' ? logSafe(state.decision.ruleId ?? '-') : 'imgproxy-signature',
      [DC.ttl]: `${ttl.seconds} (${ttl.bound})`,
      ...(form === 'native' && { [DC.binding]: binding(ctx.get(DC.material)) }),
      'X-Accel-Expires': String(ttl.seconds),
      'Cache-Control': 'no-store',
    });
    ctx.status = 204;
  };
}

/**
 * With `transform.ttl` (imgproxy's IMGPROXY_TTL): `max-age` of the TTL, shortened to the time
 * the URL has left (`expires:`), `private` unless `transform.publicCache`. Without it: the
 * source store's cacheControl.
 */
export function resultCacheControl(
  transform: Pick<TransformConfig, 'ttl' | 'publicCache'>,
  plan: Pick<TransformPlan, 'expires'>,
  storeCacheControl: string,
  now: number = Date.now(),
): string {
  if (transform.ttl === undefined) return storeCacheControl;
  const left = plan.expires === null ? Number.POSITIVE_INFINITY : plan.expires - Math.floor(now / 1000);
  const maxAge = Math.max(0, Math.min(transform.ttl, left));
  if (maxAge === 0) return 'no-cache';
  return `${transform.publicCache ? 'public' : 'private'}, max-age=${maxAge}`;
}
