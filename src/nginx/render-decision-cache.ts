// nginx locations for stores with `decisionCache` on, and for image URLs with
// `transform.decisionCache` on (docs/nginx.md "Decision cache"). nginx asks the app
// with auth_request and caches the answer (a 204 with X-Accel-Expires), then serves the file
// itself, exactly as after an X-Accel-Redirect: hits and misses take the same path, only the
// subrequest differs.
//
//   http include:   cache zone, audit log format, the credential maps
//   server include: <internal>/decide (cached auth_request target), one public location per
//                   such store, its serving location, and the error locations; for images,
//                   <internal>/decide-img/<form>, the image prefixes and their serving locations
//                   (the worker body itself comes from render-transform.ts)
//
// The cache key holds no credential: only token signatures (useless without header and payload),
// the method, the raw path and `download`. A request whose credentials the maps cannot reduce to
// that (odd spacing, other schemes, quoted or repeated cookies, any other query parameter) is
// decided by the app and never stored. Every use of a cached answer is bound to the request's
// full credentials by an md5 the app computed (secure_link_md5), so a forged token carrying a
// copied signature finds the entry but is refused.
import type { SluiceConfig } from '../config/schema.js';
import {
  APP_PROXY_DIRECTIVES,
  forwardConditionalHeaders,
  indent,
  LONG_RESPONSE_HEADERS,
  NO_REQUEST_BODY,
  s3ProxyDirectives,
  ORIGINAL_REQUEST_HEADERS,
  upstreamVar,
} from './app-proxy.js';
import {
  DC,
  DC_ERROR_STATUSES,
  decidedPrefix,
  decideLocation,
  IMAGE_ROUTE_SEGMENT,
  imageDecideLocation,
  type ImageForm,
  storeConstantHeaders,
} from '../contract/decision-cache.js';
import { decisionCacheOn, decisionCacheStores, imageDecisionCacheOn } from '../config/decision-cache.js';
import { JSON_ERROR_TYPE } from './render-errors.js';
import { PROTECTED_HEADERS, S3_PATH_HEADER } from '../contract/headers.js';
import { MAX_RANGES, SINGLE_RANGE_VAR } from './ranges.js';
import { NGINX_ERROR_REASONS } from './render-errors.js';

export const DECISION_ZONE = 'sluice_decisions';
export const AUDIT_FORMAT = 'sluice_audit';

/** Where the cache and the audit log live (the full config puts both in its runtime directory). */
export interface DecisionCachePaths {
  readonly path: string;
  readonly auditLog: string;
}

/** One compact JWS: three base64url segments. */
const JWS = '[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+';
const DOWNLOAD_ARG = 'download=[A-Za-z0-9]*';

/** Request variables of the cache flow. */
const V = {
  path: '$sluice_dc_path',
  authSkip: '$sluice_dc_auth_skip',
  authSig: '$sluice_dc_auth_sig',
  authSigMissing: '$sluice_dc_auth_sig_missing',
  cookieSkip: '$sluice_dc_cookie_skip',
  cookieToken: '$sluice_dc_cookie_token',
  cookieSig: '$sluice_dc_cookie_sig',
  argsSkip: '$sluice_dc_args_skip',
  shareSig: '$sluice_dc_share_sig',
  /** The main request's query, copied before auth_request: in the subrequest $args and $arg_* are empty. */
  args: '$sluice_dc_args',
  share: '$sluice_dc_share',
  download: '$sluice_dc_download',
  store: '$sluice_dc_store',
  route: '$sluice_dc_route',
  key: '$sluice_dc_key',
  s3Path: '$sluice_dc_s3_path',
  limitRate: '$sluice_dc_limit_rate',
  subject: '$sluice_dc_subject',
  rule: '$sluice_dc_rule',
  ttl: '$sluice_dc_ttl',
  binding: '$sluice_dc_binding',
  errorBody: '$sluice_dc_error',
  retryAfter: '$sluice_dc_retry_after',
  wwwAuthenticate: '$sluice_dc_www_authenticate',
  cache: '$sluice_dc_cache',
  source: '$sluice_dc_source',
  decision: '$sluice_dc_decision',
  typeOut: '$sluice_dc_type_out',
  /** "download" or "transform", for the audit line. */
  action: '$sluice_dc_action',
  // Images:
  imgTicket: '$sluice_dc_img_ticket',
  imgKey: '$sluice_dc_img_key',
  imgVary: '$sluice_dc_img_vary',
  imgCacheControl: '$sluice_dc_img_cache_control',
  /** "?" (a form the maps cannot read: decided by the app every time), "a" (accepted) or "". */
  imgAvif: '$sluice_dc_img_avif',
  imgWebp: '$sluice_dc_img_webp',
  imgAcceptSkip: '$sluice_dc_img_accept_skip',
  /** The Accept the app is asked with: exactly the class in the key. */
  imgAcceptOut: '$sluice_dc_img_accept_out',
  imgArgsSkip: '$sluice_dc_img_args_skip',
  /** The client address when the request carries no credential (the ticket's budget client then). */
  imgAddr: '$sluice_dc_img_addr',
} as const;

/** What nginx hashes for the binding; the app hashes the same string (DC.material). */
const MATERIAL = `"$http_authorization|${V.cookieToken}|${V.share}"`;

export function defaultDecisionCachePaths(config: SluiceConfig): DecisionCachePaths {
  return { path: config.nginx.decisionCache.path, auditLog: config.nginx.decisionCache.auditLog };
}

/**
 * The audit log, with the same parameters in every location (nginx refuses one file opened with two
 * buffer settings). Buffered, a hit costs no write(2) of its own; nginx flushes on the timer, when
 * the buffer is full, and on reload, log reopen and shutdown.
 */
function auditLogDirective(config: SluiceConfig, paths: DecisionCachePaths): string {
  const { auditLogBuffer: buffer, auditLogFlushSeconds: flush } = config.nginx.decisionCache;
  const buffering = buffer === 'off' || buffer === '0' ? '' : ` buffer=${buffer} flush=${flush}s`;
  return `access_log "${paths.auditLog}" ${AUDIT_FORMAT}${buffering};`;
}

export function renderDecisionCacheHttp(config: SluiceConfig, paths: DecisionCachePaths = defaultDecisionCachePaths(config)): string[] {
  if (!decisionCacheOn(config)) return [];
  const cookie = config.auth.cookieName;
  const lines = [
    '',
    '# Decision cache (docs/nginx.md "Decision cache"): allow decisions nginx reuses for as long as the app',
    '# said (X-Accel-Expires). The key holds no credential, only signatures; see the maps below.',
    `proxy_cache_path "${paths.path}" levels=1:2 keys_zone=${DECISION_ZONE}:${config.nginx.decisionCache.zoneSize} inactive=10m use_temp_path=off;`,
    '',
    '# One JSON line per decided download or image, cache hits included (source "nginx-cache"):',
    '# never a token or a query string.',
    `log_format ${AUDIT_FORMAT} escape=json '{"time":"$time_iso8601","requestId":"$request_id","source":"${V.source}","action":"${V.action}",'`,
    `    '"cache":"${V.cache}","decision":"${V.decision}","subject":"${V.subject}","store":"${V.store}",'`,
    `    '"key":"${V.key}","rule":"${V.rule}","ttl":"${V.ttl}","method":"$request_method","status":"$status","bytes":"$body_bytes_sent"}';`,
    `map ${V.cache} ${V.source} {`,
    '    HIT nginx-cache;',
    '    default app;',
    '}',
    ...(decisionCacheStores(config).length > 0
      ? [
          '# fs: nginx sends no Content-Type with its own 304 after X-Accel-Redirect; neither do these.',
          `map $status ${V.typeOut} {`,
          '    304 "";',
          `    default ${carriedHeaderVar('Content-Type')};`,
          '}',
        ]
      : []),
    `map ${V.route} ${V.decision} {`,
    '    serve allow;',
    '    error/401 deny;',
    '    error/403 deny;',
    '    "" none;',
    '    default error;',
    '}',
    '',
    '# The raw path, without the query (which may hold a share link).',
    `map $request_uri ${V.path} {`,
    '    "~^([^?]*)" $1;',
    '}',
    '# A Bearer header is cacheable only in its plain form; the key keeps only its signature.',
    '# Exact "" entries are hash lookups: the regexes run only on a value that is there.',
    `map $http_authorization ${V.authSig} {`,
    '    "" "";',
    `    "~^Bearer [A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.([A-Za-z0-9_-]+)$" $1;`,
    '    default "";',
    '}',
    '# Plain form exactly when the signature map found one: no second regex over the header.',
    `map $http_authorization ${V.authSkip} {`,
    '    "" 0;',
    `    default ${V.authSigMissing};`,
    '}',
    `map ${V.authSig} ${V.authSigMissing} {`,
    '    "" 1;',
    '    default 0;',
    '}',
    ...cookieMaps(cookie),
    '# Query strings: nothing but one share link and one download flag (nginx and the app must read',
    '# the same parameters; anything else is decided by the app every time).',
    `map ${V.args} ${V.argsSkip} {`,
    '    "" 0;',
    `    "~^share=${JWS}$" 0;`,
    `    "~^${DOWNLOAD_ARG}$" 0;`,
    `    "~^share=${JWS}&${DOWNLOAD_ARG}$" 0;`,
    `    "~^${DOWNLOAD_ARG}&share=${JWS}$" 0;`,
    '    default 1;',
    '}',
    `map ${V.args} ${V.share} {`,
    '    "" "";',
    '    "~(?:^|&)share=([^&]*)" $1;',
    '    default "";',
    '}',
    `map ${V.args} ${V.shareSig} {`,
    '    "" "";',
    `    "~(?:^|&)share=[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.([A-Za-z0-9_-]+)(?:&|$)" $1;`,
    '    default "";',
    '}',
    `map ${V.args} ${V.download} {`,
    '    "" "";',
    '    "~(?:^|&)download=([^&]*)" $1;',
    '    default "";',
    '}',
  ];
  if (imageDecisionCacheOn(config)) lines.push(...imageMaps());
  return lines;
}

/** The maps of image decisions: the Accept class, the native form's query, the client address. */
function imageMaps(): string[] {
  const accept = (format: string, flag: string, variable: string): string[] => [
    `map $http_accept ${variable} {`,
    // With parameters (a q-value) the maps cannot tell what the app would read: ask it every time.
    `    "~*(?:^|,)[ \\t]*image/${format}[ \\t]*;" "?";`,
    `    "~*(?:^|,)[ \\t]*image/${format}[ \\t]*(?:,|$)" ${flag};`,
    '    default "";',
    '}',
  ];
  const both = `"${V.imgAvif}${V.imgWebp}"`;
  return [
    '',
    '# Image decisions: the Accept class is all the app reads of Accept (AVIF and WebP listed or not,',
    '# transform/format.ts). The app is asked with exactly that class, so one entry never serves another.',
    ...accept('avif', 'a', V.imgAvif),
    ...accept('webp', 'w', V.imgWebp),
    `map ${both} ${V.imgAcceptSkip} {`,
    '    "~\\?" 1;',
    '    default 0;',
    '}',
    `map ${both} ${V.imgAcceptOut} {`,
    '    "" "";',
    '    a image/avif;',
    '    w image/webp;',
    '    aw "image/avif,image/webp";',
    '    default $http_accept;',
    '}',
    '# Native image URLs: the options are the query, which goes into the key as sent; a share link',
    '# (or a parameter name the maps cannot read) never does: decided by the app every time.',
    `map ${V.args} ${V.imgArgsSkip} {`,
    '    "~(?:^|&)share(?:[=&]|$)" 1;',
    '    "~(?:^|&)[^=&]*%" 1;',
    '    default 0;',
    '}',
    '# Without a credential the worker budgets the render by client address: then it is in the key.',
    `map "$http_authorization${V.cookieToken}" ${V.imgAddr} {`,
    '    "" $remote_addr;',
    '    default "";',
    '}',
  ];
}

/** A map over the Cookie header with fixed entries. */
function cookieMap(variable: string, entries: readonly string[]): string[] {
  return [`map $http_cookie ${variable} {`, ...entries.map((entry) => `    ${entry};`), '}'];
}

/** The session cookie: cacheable only when it appears once, unquoted, as a plain JWS. */
function cookieMaps(cookie: string | undefined): string[] {
  if (cookie === undefined) {
    // The app reads no cookie: none is part of the decision.
    return [...cookieMap(V.cookieSkip, ['default 0']), ...cookieMap(V.cookieToken, ['default ""']), ...cookieMap(V.cookieSig, ['default ""'])];
  }
  if (!/^[A-Za-z0-9_-]+$/.test(cookie)) {
    // A name the maps cannot match safely: any request with cookies is decided by the app.
    return [...cookieMap(V.cookieSkip, ['"" 0', 'default 1']), ...cookieMap(V.cookieToken, ['default ""']), ...cookieMap(V.cookieSig, ['default ""'])];
  }
  const once = `(?:^|;\\s*)${cookie}=(${JWS})\\s*(?:;|$)`;
  return [
    `# Cookie "${cookie}" (auth.cookieName): once, unquoted, a plain token; else decided by the app.`,
    `map $http_cookie ${V.cookieSkip} {`,
    '    "" 0;',
    '    default 0;',
    `    "~*${cookie}.*${cookie}" 1;`,
    `    "~${once}" 0;`,
    `    "~*${cookie}" 1;`,
    '}',
    `map $http_cookie ${V.cookieToken} {`,
    '    "" "";',
    `    "~${once}" $1;`,
    '    default "";',
    '}',
    `map ${V.cookieToken} ${V.cookieSig} {`,
    '    "" "";',
    '    "~\\.([A-Za-z0-9_-]+)$" $1;',
    '    default "";',
    '}',
  ];
}

export interface DecisionCacheStore {
  readonly name: string;
  /** fs: the store root (already checked for nginx). */
  readonly root?: string;
  /** s3: the fixed upstream. */
  readonly s3?: {
    readonly scheme: 'http' | 'https';
    readonly upstream: string;
    readonly host: string;
    readonly hostHeader: string;
    readonly timeoutSeconds: number;
  };
}

/** The shared locations: the cached auth_request target and the error answers. */
export function renderDecisionCacheServer(config: SluiceConfig, paths: DecisionCachePaths = defaultDecisionCachePaths(config)): string[] {
  if (!decisionCacheOn(config)) return [];
  const internal = config.nginx.internalPrefix;
  const decided = decidedPrefix(internal);
  const skips = `${V.authSkip} ${V.cookieSkip} ${V.argsSkip}`;
  const lines: string[] = [];
  if (decisionCacheStores(config).length > 0) {
    lines.push(
      '',
      '# Decision cache: the auth_request target whose 204 answers nginx keeps for X-Accel-Expires seconds.',
      `location = ${decideLocation(internal)} {`,
      '    internal;',
      ...indent(APP_PROXY_DIRECTIVES),
      ...indent(ORIGINAL_REQUEST_HEADERS),
      ...indent(NO_REQUEST_BODY),
      `    proxy_set_header ${DC.material} ${MATERIAL};`,
      ...indent(LONG_RESPONSE_HEADERS),
      `    proxy_cache ${DECISION_ZONE};`,
      '    # Signatures only, never a token: nginx writes the key into each cache file in clear.',
      `    proxy_cache_key "$request_method|${V.path}|d:${V.download}|b:${V.authSig}|c:${V.cookieSig}|s:${V.shareSig}";`,
      '    proxy_cache_methods GET HEAD;',
      '    # Only X-Accel-Expires decides (the app sends 0 for what must not be kept); an answer with',
      '    # Set-Cookie is never stored (that header is not ignored).',
      '    proxy_ignore_headers Cache-Control Expires;',
      `    proxy_cache_bypass ${skips};`,
      `    proxy_no_cache ${skips};`,
      '}',
    );
  }
  if (imageDecisionCacheOn(config)) {
    lines.push(...imageDecideLocation_(config, 'native'), ...imageDecideLocation_(config, 'imgproxy'));
    // The worker down or silent, as @sluice_worker_unavailable answers it, with the audit line.
    lines.push(
      '',
      `location = ${workerErrorLocation(internal)} {`,
      '    internal;',
      ...indent(JSON_ERROR_TYPE),
      '    add_header X-Content-Type-Options nosniff always;',
      '    add_header Cache-Control no-store always;',
      '    add_header Retry-After 5 always;',
      `    ${auditLogDirective(config, paths)}`,
      `    return 503 '{"error":"worker unavailable"}\\n';`,
      '}',
    );
  }
  lines.push(
    '',
    "# A request that matched no route below (should not happen): nginx's own 500.",
    `location ${decided}/ {`,
    '    internal;',
    `    ${auditLogDirective(config, paths)}`,
    '    return 500;',
    '}',
  );
  // The app's refusals and failures, carried in its 204: its own status, body and headers.
  for (const status of DC_ERROR_STATUSES) {
    lines.push(
      '',
      `location ~ ^${decided}/[a-z0-9_-]+/error/${status}$ {`,
      '    internal;',
      '    types { }',
      '    default_type "application/json; charset=utf-8";',
      '    add_header Cache-Control no-store always;',
      '    add_header X-Content-Type-Options nosniff always;',
      `    add_header WWW-Authenticate ${V.wwwAuthenticate} always;`,
      `    add_header Retry-After ${V.retryAfter} always;`,
      `    ${auditLogDirective(config, paths)}`,
      `    return ${status} ${V.errorBody};`,
      '}',
    );
  }
  // nginx's own answers while serving (missing file, Range, preconditions, storage, a failed binding).
  for (const status of NGINX_STATUSES) {
    const reason = status === 502 ? 'storage error' : (NGINX_ERROR_REASONS[status] as string);
    lines.push(
      '',
      `location = ${nginxErrorLocation(internal, status)} {`,
      '    internal;',
      '    types { }',
      '    default_type application/json;',
      '    add_header X-Content-Type-Options nosniff always;',
      ...(status === 401 ? ['    add_header WWW-Authenticate \'Bearer realm="sluice", error="invalid_token"\' always;'] : []),
      `    ${auditLogDirective(config, paths)}`,
      `    return ${status} '{"error":"${reason}"}\\n';`,
      '}',
    );
  }
  return lines;
}

const NGINX_STATUSES: readonly number[] = [401, 404, 412, 416, 500, 502];

function workerErrorLocation(internal: string): string {
  return `${decidedPrefix(internal)}/nginx-error/worker`;
}

/**
 * The cached auth_request target of one image form. The key: the form, the method, the request
 * line (native: path and query, the query being the options; imgproxy: the path, which its
 * signature covers — the app reads no query there), the Accept class, and who asks — the
 * credentials' signatures (native), or the client address where the worker's budget is kept by
 * address (imgproxy always; native without a credential).
 */
function imageDecideLocation_(config: SluiceConfig, form: ImageForm): string[] {
  const internal = config.nginx.internalPrefix;
  const native = form === 'native';
  const skips = native ? `${V.authSkip} ${V.cookieSkip} ${V.imgArgsSkip} ${V.imgAcceptSkip}` : V.imgAcceptSkip;
  const key = native
    ? `"native|$request_method|$request_uri|a:${V.imgAvif}${V.imgWebp}|r:${V.imgAddr}|b:${V.authSig}|c:${V.cookieSig}"`
    : `"imgproxy|$request_method|${V.path}|a:${V.imgAvif}${V.imgWebp}|r:$remote_addr"`;
  return [
    '',
    `# Image decisions (${native ? 'native' : 'imgproxy'} URLs): the answer, ticket included, kept for X-Accel-Expires seconds.`,
    `location = ${imageDecideLocation(internal, form)} {`,
    '    internal;',
    ...indent(APP_PROXY_DIRECTIVES),
    ...indent(ORIGINAL_REQUEST_HEADERS),
    ...indent(NO_REQUEST_BODY),
    ...(native ? [`    proxy_set_header ${DC.material} ${MATERIAL};`] : []),
    `    proxy_set_header ${DC.client} ${native ? V.imgAddr : '$remote_addr'};`,
    `    proxy_set_header Accept ${V.imgAcceptOut};`,
    '    # The ticket (plan + presigned source URL) and the key both live in the cache header.',
    '    proxy_buffer_size 32k;',
    '    proxy_buffers 8 32k;',
    `    proxy_cache ${DECISION_ZONE};`,
    native
      ? '    # Signatures only, never a token; the query holds no share link (those are never stored).'
      : '    # The signed path, as in an access log; never a token.',
    `    proxy_cache_key ${key};`,
    '    proxy_cache_methods GET HEAD;',
    '    proxy_ignore_headers Cache-Control Expires;',
    `    proxy_cache_bypass ${skips};`,
    `    proxy_no_cache ${skips};`,
    '}',
  ];
}

/**
 * The public location of one image prefix and its serving location: ask (cached), then render or
 * serve the result as the answer says. `worker` is the internal image location's body
 * (render-transform.ts), given the decision's variables instead of the app's response headers.
 */
export function renderImageDecisionLocations(
  config: SluiceConfig,
  form: ImageForm,
  prefix: string,
  image: ImageLocationParts,
  paths: DecisionCachePaths = defaultDecisionCachePaths(config),
): string[] {
  const internal = config.nginx.internalPrefix;
  const decided = decidedPrefix(internal);
  const segment = IMAGE_ROUTE_SEGMENT[form];
  const native = form === 'native';
  const carried: [string, string][] = [
    [V.route, DC.route],
    [V.store, DC.store],
    [V.key, DC.key],
    [V.subject, DC.subject],
    [V.rule, DC.rule],
    [V.ttl, DC.ttl],
    ...(native ? [[V.binding, DC.binding] as [string, string]] : []),
    [V.errorBody, DC.errorBody],
    [V.retryAfter, DC.retryAfter],
    [V.wwwAuthenticate, DC.wwwAuthenticate],
    [V.imgTicket, image.headers.ticket],
    [V.imgKey, image.headers.key],
    [V.imgVary, DC.vary],
    [V.imgCacheControl, image.headers.cacheControl],
  ];
  return [
    '',
    `# Image URLs under ${prefix}/ (${form}): decisions cached by nginx for up to ${config.transform.decisionCache.ttlSeconds} s (docs/nginx.md "Decision cache").`,
    `location ^~ ${prefix}/ {`,
    `    set ${V.action} transform;`,
    '    # The query as the client sent it: the decision subrequest has none of its own.',
    `    set ${V.args} $args;`,
    `    auth_request ${imageDecideLocation(internal, form)};`,
    ...carried.map(([variable, header]) => `    auth_request_set ${variable} ${upstreamVar(header)};`),
    `    auth_request_set ${V.cache} $upstream_cache_status;`,
    '    # The last try_files parameter is an internal redirect; the variables above survive it.',
    `    try_files /.sluice-never ${decided}/${segment}/${V.route};`,
    '    # auth_request failing (the app unreachable) is a 500 here.',
    '    error_page 500 = @sluice_app_unavailable;',
    '}',
    '',
    `location = ${decided}/${segment}/serve {`,
    '    internal;',
    ...(native
      ? [
          "    # Every use of a decision, cached or not, is bound to this request's credentials.",
          `    secure_link ${V.binding};`,
          `    secure_link_md5 ${MATERIAL};`,
          '    if ($secure_link != "1") {',
          '        return 401;',
          '    }',
          `    error_page 401 = ${nginxErrorLocation(internal, 401)};`,
        ]
      : []),
    ...image.worker({
      ticket: V.imgTicket,
      key: V.imgKey,
      vary: V.imgVary,
      disposition: '""',
      cacheControl: V.imgCacheControl,
      workerUnavailable: workerErrorLocation(internal),
    }),
    `    ${auditLogDirective(config, paths)}`,
    '}',
  ];
}

/** What render-transform.ts contributes: the app's image headers, and the worker location's body. */
export interface ImageLocationParts {
  readonly headers: { readonly ticket: string; readonly key: string; readonly cacheControl: string };
  readonly worker: (sources: ImageSources) => string[];
}

/** Where the internal image location takes the app's answer from; and where a dead worker goes. */
export interface ImageSources {
  readonly ticket: string;
  readonly key: string;
  readonly vary: string;
  readonly disposition: string;
  readonly cacheControl: string;
  readonly workerUnavailable: string;
}

function nginxErrorLocation(internal: string, status: number): string {
  return `${decidedPrefix(internal)}/nginx-error/${status}`;
}

function carriedHeaderVar(header: string): string {
  return `$sluice_dc_h_${header.toLowerCase().replace(/-/g, '_')}`;
}

/** The public location of one store: ask (cached), then serve as the answer says. */
export function renderDecisionCacheStore(
  config: SluiceConfig,
  store: DecisionCacheStore,
  paths: DecisionCachePaths = defaultDecisionCachePaths(config),
): string[] {
  const internal = config.nginx.internalPrefix;
  const decided = decidedPrefix(internal);
  const constant = storeConstantHeaders(config.stores[store.name]?.cacheControl ?? '');
  const carriedHeaders = PROTECTED_HEADERS.filter((h) => constant[h.header] === undefined);
  const carried: [string, string][] = [
    [V.route, DC.route],
    [V.key, DC.key],
    [V.limitRate, DC.limitRate],
    [V.subject, DC.subject],
    [V.rule, DC.rule],
    [V.ttl, DC.ttl],
    [V.binding, DC.binding],
    [V.errorBody, DC.errorBody],
    [V.retryAfter, DC.retryAfter],
    [V.wwwAuthenticate, DC.wwwAuthenticate],
    ...carriedHeaders.map((h): [string, string] => [carriedHeaderVar(h.header), h.privateHeader]),
    ...(store.s3 !== undefined ? [[V.s3Path, S3_PATH_HEADER] as [string, string]] : []),
  ];
  const headerValue = (header: string): string => {
    const value = constant[header];
    if (value !== undefined) return `"${value}"`;
    return header === 'Content-Type' && store.root !== undefined ? V.typeOut : carriedHeaderVar(header);
  };
  const serve = [
    "    # Every use of a decision, cached or not, is bound to this request's credentials.",
    `    secure_link ${V.binding};`,
    `    secure_link_md5 ${MATERIAL};`,
    '    if ($secure_link != "1") {',
    '        return 401;',
    '    }',
    "    # The app's download headers (the store's constant ones stated here); the type is the app's, never mime.types'.",
    '    types { }',
    '    default_type "";',
    ...PROTECTED_HEADERS.map((h) => `    add_header ${h.header} ${headerValue(h.header)}${h.always ? ' always' : ''};`),
    "    # The rule's bandwidth, as X-Accel-Limit-Rate sets it on a download through the app.",
    `    limit_rate ${V.limitRate};`,
    `    ${auditLogDirective(config, paths)}`,
  ];
  const errorPage = (statuses: readonly number[], status: number): string => `    error_page ${statuses.join(' ')} = ${nginxErrorLocation(internal, status)};`;
  const lines = [
    '',
    `# Store "${store.name}": decisions cached by nginx for up to ${config.stores[store.name]?.decisionCache?.ttlSeconds ?? 0} s (docs/nginx.md "Decision cache").`,
    `location ^~ ${config.prefix}/${store.name}/ {`,
    `    set ${V.store} "${store.name}";`,
    `    set ${V.action} download;`,
    '    # The query as the client sent it: the decision subrequest has none of its own.',
    `    set ${V.args} $args;`,
    `    auth_request ${decideLocation(internal)};`,
    ...carried.map(([variable, header]) => `    auth_request_set ${variable} ${upstreamVar(header)};`),
    `    auth_request_set ${V.cache} $upstream_cache_status;`,
    '    # The last try_files parameter is an internal redirect; the variables above survive it.',
    `    try_files /.sluice-never ${decided}/${store.name}/${V.route};`,
    '    # auth_request failing (the app unreachable) is a 500 here.',
    '    error_page 500 = @sluice_app_unavailable;',
    '}',
    '',
  ];
  if (store.root !== undefined) {
    lines.push(
      `location = ${decided}/${store.name}/serve {`,
      '    internal;',
      '    # The key comes from the app only (canonical: no dot segments); the alias is the whole path.',
      `    alias "${store.root}/${V.key}";`,
      '    # Only regular files: a directory must not turn into a 301 that names this location.',
      '    try_files "" =404;',
      `    disable_symlinks on from="${store.root}";`,
      '    log_not_found off;',
      ...serve,
      `    max_ranges ${MAX_RANGES};`,
      errorPage([401], 401),
      errorPage([403, 404], 404),
      errorPage([412], 412),
      errorPage([416], 416),
      errorPage([500], 500),
      '}',
    );
  } else if (store.s3 !== undefined) {
    const s3 = store.s3;
    lines.push(
      `location = ${decided}/${store.name}/serve {`,
      '    internal;',
      '    # Only the signed path+query comes from the app; the host is fixed here.',
      ...indent(s3ProxyDirectives(s3, s3.upstream, V.s3Path)),
      ...indent(forwardConditionalHeaders({ Range: SINGLE_RANGE_VAR })),
      ...HIDDEN_S3.map((h) => `    proxy_hide_header ${h};`),
      ...serve,
      '    proxy_buffer_size 16k;',
      '    proxy_buffers 8 16k;',
      '    proxy_max_temp_file_size 0;',
      `    proxy_connect_timeout ${Math.min(s3.timeoutSeconds, 75)}s;`,
      `    proxy_read_timeout ${s3.timeoutSeconds}s;`,
      `    proxy_send_timeout ${s3.timeoutSeconds}s;`,
      '    proxy_intercept_errors on;',
      errorPage([401], 401),
      errorPage([404], 404),
      errorPage([412], 412),
      errorPage([416], 416),
      errorPage(S3_FAILURES, 502),
      '}',
    );
  }
  return lines;
}

/** What S3 must not add: the app's headers are re-added from the decision. */
const HIDDEN_S3 = [
  'Content-Type',
  'Content-Disposition',
  'Cache-Control',
  'Expires',
  'Set-Cookie',
  'Content-Security-Policy',
  'X-Content-Type-Options',
  'x-amz-request-id',
  'x-amz-id-2',
  'X-Trans-Id',
  'X-Openstack-Request-Id',
];

/** Storage redirects, refusals and failures: Sluice's 502 (401 stays the binding's). */
const S3_FAILURES: readonly number[] = [301, 302, 303, 307, 308, 400, 403, 405, 406, 408, 409, 410, 411, 413, 414, 415, 429, 500, 501, 502, 503, 504];
