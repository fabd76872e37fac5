// nginx configuration for image transforms: the public image prefixes (proxied to the app like
// downloads), the result cache, and the internal location the app's X-Accel-Redirect points at.
// Nothing is rendered while transforms are disabled (the worker upstream: render-worker.ts).
import path from 'node:path';
import type { SluiceConfig } from '../config/schema.js';
import { DISPOSITION_HEADER, IMAGE_CACHE_CONTROL_HEADER } from '../contract/headers.js';
import { imageLocation } from '../contract/nginx-locations.js';
import { CACHE_KEY_HEADER, TICKET_HEADER } from '../contract/tickets.js';
import { RENDER_PATH } from '../contract/worker-paths.js';
import { imageResultFsLocation, imageResultLocation, RESULT_PATH_HEADER } from '../contract/result-store.js';
import { ConfigError } from '../config/errors.js';
import { APP_PROXY_DIRECTIVES, indent, LONG_RESPONSE_HEADERS, NO_REQUEST_BODY, s3ProxyDirectives, upstreamVar } from './app-proxy.js';
import { WORKER_UPSTREAM } from './render-worker.js';
import { MAX_RANGES } from './ranges.js';
import { imageDecisionCacheOn } from '../config/decision-cache.js';
import { defaultDecisionCachePaths, renderImageDecisionLocations, type DecisionCachePaths, type ImageSources } from './render-decision-cache.js';

const CACHE_ZONE = 'sluice_img';

/** imgproxy's response policy: an image can never become an active document. */
export const IMAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox";

/** Lines for the http include: the result cache. */
export function renderTransformHttp(config: SluiceConfig): string[] {
  const { worker } = config;
  if (!config.transform.enabled || !worker.cache.enabled) return [];
  return [
    "# Transform results. A relative path is under nginx's prefix (-p).",
    `proxy_cache_path ${worker.cache.dir} levels=1:2 keys_zone=${CACHE_ZONE}:16m max_size=${worker.cache.maxSize} inactive=${worker.cache.inactive} use_temp_path=off;`,
  ];
}

/**
 * Lines for the server include: public image prefixes and the internal worker location. With
 * transform.decisionCache, each prefix asks the app with a cached auth_request instead
 * (render-decision-cache.ts) and jumps to its own copy of the worker location.
 */
export function renderTransformServer(
  config: SluiceConfig,
  paths: DecisionCachePaths = defaultDecisionCachePaths(config),
  resultS3?: ResultS3Upstream,
): string[] {
  if (!config.transform.enabled) return [];
  const { transform, worker } = config;
  const results = transform.resultStore !== undefined;
  const body = (sources: ImageSources): string[] => workerDirectives(sources, worker.cache.enabled, worker.cache.valid, worker.requestTimeoutMs, results);
  const lines: string[] = [];
  if (imageDecisionCacheOn(config)) {
    const parts = { headers: { ticket: TICKET_HEADER, key: CACHE_KEY_HEADER, cacheControl: IMAGE_CACHE_CONTROL_HEADER }, worker: body };
    lines.push(...renderImageDecisionLocations(config, 'imgproxy', transform.imgproxyPrefix, parts, paths));
    lines.push(...renderImageDecisionLocations(config, 'native', transform.nativePrefix, parts, paths));
  } else {
    const prefixes = [...new Set([transform.imgproxyPrefix, transform.nativePrefix])];
    for (const prefix of prefixes) lines.push('', ...publicImageLocation(prefix));
  }
  // X-Accel-Redirect's target, from the app's own answer (always rendered: an app started before
  // the decision cache was turned on still points at it).
  lines.push('', ...internalImageLocation(config.nginx.internalPrefix, body));
  lines.push(...resultStoreLocations(config, resultS3));
  return lines;
}

/** The S3 result store's upstream, as the main renderer names it (render.ts owns the upstream blocks). */
export interface ResultS3Upstream {
  readonly scheme: 'http' | 'https';
  readonly upstream: string;
  readonly host: string;
  readonly hostHeader: string;
  readonly timeoutSeconds: number;
}

/**
 * S3 headers that must not reach the client. Also hidden in the worker location: nginx's cache
 * entry keeps S3's headers, and a later hit is answered from there.
 */
const HIDDEN_RESULT_HEADERS = [
  'Cache-Control',
  'Expires',
  'Set-Cookie',
  'x-amz-request-id',
  'x-amz-id-2',
  'x-amz-meta-sluice-format',
  'X-Trans-Id',
  'X-Openstack-Request-Id',
];

/** What the worker's X-Accel-Redirect to a stored result lands on (transform.resultStore). */
function resultStoreLocations(config: SluiceConfig, s3: ResultS3Upstream | undefined): string[] {
  const settings = config.transform.resultStore;
  if (settings === undefined) return [];
  const store = config.stores[settings.store];
  const internal = config.nginx.internalPrefix;
  const common = [
    '    add_header X-Content-Type-Options nosniff always;',
    `    add_header Content-Security-Policy "${IMAGE_CSP}" always;`,
    '    add_header Vary $sluice_img_vary;',
    '    add_header Cache-Control $sluice_img_cache_control;',
    `    max_ranges ${MAX_RANGES};`,
  ];
  if (store?.type === 'fs') {
    const dir = `${path.resolve(store.root).replace(/\/+$/, '')}/${settings.prefix}`;
    if (/[$"'{};\\\n\r]/.test(dir))
      throw ConfigError.forKey(`stores.${settings.store}.root`, 'contains a character nginx cannot take in a path ($ " \' { } ; \\ or newline)');
    return [
      '',
      '# A result another node rendered, in the shared fs result store: nginx sends the file. The',
      '# worker named it (and set its type and name); nothing here caches it, the file is local.',
      `location ^~ ${imageResultFsLocation(internal)} {`,
      '    internal;',
      `    alias "${dir}";`,
      `    disable_symlinks on from="${dir.replace(/\/$/, '')}";`,
      '    log_not_found off;',
      '    try_files $uri =404;',
      ...common,
      '    error_page 403 404 = @sluice_not_found;',
      '}',
    ];
  }
  if (s3 === undefined) throw ConfigError.forKey('transform.resultStore.store', `"${settings.store}" is not a plain s3 or fs store`);
  const cache = config.worker.cache;
  return [
    '',
    '# A result another node rendered, in the shared S3 result store: nginx fetches the presigned',
    '# path the worker signed (type and name are signed into it) and caches the answer under the',
    "# same key as a render, so this node's next request is a plain cache hit.",
    `location = ${imageResultLocation(internal)} {`,
    '    internal;',
    `    set $sluice_img_result_path ${upstreamVar(RESULT_PATH_HEADER)};`,
    ...indent(s3ProxyDirectives(s3, s3.upstream, '$sluice_img_result_path')),
    ...(cache.enabled
      ? [
          `    proxy_cache ${CACHE_ZONE};`,
          '    proxy_cache_key $sluice_img_key;',
          `    proxy_cache_valid 200 ${cache.valid};`,
          '    proxy_cache_lock on;',
          '    proxy_ignore_headers Cache-Control Expires Set-Cookie Vary X-Accel-Expires X-Accel-Redirect X-Accel-Limit-Rate X-Accel-Buffering X-Accel-Charset;',
        ]
      : []),
    ...HIDDEN_RESULT_HEADERS.map((h) => `    proxy_hide_header ${h};`),
    ...common,
    `    proxy_connect_timeout ${Math.min(s3.timeoutSeconds, 75)}s;`,
    `    proxy_read_timeout ${s3.timeoutSeconds}s;`,
    "    # Storage's own error documents never reach the client (a result pruned since the lookup too).",
    '    proxy_intercept_errors on;',
    '    error_page 400 401 403 404 405 408 409 410 411 412 413 414 415 416 429 500 501 502 503 504 = @sluice_storage_error;',
    '}',
  ];
}

function publicImageLocation(prefix: string): string[] {
  return [
    `# Image transforms under ${prefix}/: Sluice authorizes, then redirects internally to the worker.`,
    `location ^~ ${prefix}/ {`,
    ...indent(APP_PROXY_DIRECTIVES),
    ...indent(NO_REQUEST_BODY),
    '    # The ticket (plan + presigned source URL) travels in a response header.',
    ...indent(LONG_RESPONSE_HEADERS),
    '}',
  ];
}

/** The app's answer, as the X-Accel-Redirect response's headers. */
const APP_ANSWER: ImageSources = {
  ticket: upstreamVar(TICKET_HEADER),
  key: upstreamVar(CACHE_KEY_HEADER),
  vary: '$upstream_http_vary',
  disposition: upstreamVar(DISPOSITION_HEADER),
  cacheControl: upstreamVar(IMAGE_CACHE_CONTROL_HEADER),
  workerUnavailable: '@sluice_worker_unavailable',
};

function internalImageLocation(internalPrefix: string, body: (sources: ImageSources) => string[]): string[] {
  return [
    '# The worker renders what the app authorized; nginx caches the result under the key the app',
    '# computed (plan + source version + format). A hit is served only after a fresh decision.',
    `location = ${imageLocation(internalPrefix)} {`,
    '    internal;',
    ...body(APP_ANSWER),
    '}',
  ];
}

/** The worker location's directives; `sources` says where the app's answer is read from. */
function workerDirectives(sources: ImageSources, cache: boolean, valid: string, requestTimeoutMs: number, results = false): string[] {
  // With the result store the worker may answer X-Accel-Redirect to a stored result: followed,
  // and (as nginx does with such answers) not cached here; the result location caches instead.
  const ignored = [
    'Cache-Control',
    'Expires',
    'Set-Cookie',
    'Vary',
    'X-Accel-Expires',
    ...(results ? [] : ['X-Accel-Redirect']),
    'X-Accel-Limit-Rate',
    'X-Accel-Buffering',
    'X-Accel-Charset',
  ];
  return [
    // `set` runs before proxy_pass replaces the upstream, so these still see the app's headers.
    `    set $sluice_img_ticket ${sources.ticket};`,
    `    set $sluice_img_key ${sources.key};`,
    `    set $sluice_img_vary ${sources.vary};`,
    `    set $sluice_disposition ${sources.disposition};`,
    `    set $sluice_img_cache_control ${sources.cacheControl};`,
    `    proxy_pass http://${WORKER_UPSTREAM}${RENDER_PATH};`,
    '    proxy_http_version 1.1;',
    '    proxy_set_header Connection "";',
    "    # The worker needs the ticket only: never the client's Authorization or Cookie.",
    '    proxy_pass_request_headers off;',
    '    proxy_pass_request_body off;',
    '    proxy_set_header Content-Length "";',
    `    proxy_set_header ${TICKET_HEADER} $sluice_img_ticket;`,
    '    proxy_set_header X-Request-Id $request_id;',
    ...(cache
      ? [
          `    proxy_cache ${CACHE_ZONE};`,
          '    proxy_cache_key $sluice_img_key;',
          `    proxy_cache_valid 200 ${valid};`,
          '    # Concurrent misses for one result wait for the first instead of rendering it N times.',
          '    proxy_cache_lock on;',
          `    proxy_cache_lock_timeout ${Math.ceil(requestTimeoutMs / 1000)}s;`,
          `    proxy_ignore_headers ${ignored.join(' ')};`,
        ]
      : ['    proxy_set_header If-None-Match $http_if_none_match;']),
    `    proxy_read_timeout ${Math.ceil(requestTimeoutMs / 1000) + 5}s;`,
    '    # nginx builds Range answers from cached results itself: one range, never a multipart body.',
    `    max_ranges ${MAX_RANGES};`,
    '    proxy_hide_header X-Request-Id;',
    '    proxy_hide_header X-Content-Type-Options;',
    ...(results ? HIDDEN_RESULT_HEADERS.filter((h) => h.startsWith('x-') || h.startsWith('X-')).map((h) => `    proxy_hide_header ${h};`) : []),
    '    add_header X-Content-Type-Options nosniff always;',
    `    add_header Content-Security-Policy "${IMAGE_CSP}" always;`,
    '    add_header Vary $sluice_img_vary;',
    '    add_header Content-Disposition $sluice_disposition;',
    "    # Success only; the worker's own errors say no-store.",
    '    add_header Cache-Control $sluice_img_cache_control;',
    "    # The worker down or silent: a short JSON answer, not nginx's HTML page.",
    `    error_page 502 504 = ${sources.workerUnavailable};`,
  ];
}
