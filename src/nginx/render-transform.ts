// nginx configuration for image transforms: the public image prefixes (proxied to the app like
// downloads), the result cache, and the internal location the app's X-Accel-Redirect points at.
// Nothing is rendered while transforms are disabled (the worker upstream: render-worker.ts).
import type { SluiceConfig } from '../config/schema.js';
import { CACHE_KEY_HEADER, RENDER_PATH, TICKET_HEADER } from '../transform/internal-token.js';
import { DISPOSITION_HEADER } from './locations.js';
import { APP_PROXY_DIRECTIVES, indent, LONG_RESPONSE_HEADERS, NO_REQUEST_BODY, upstreamVar } from './app-proxy.js';
import { WORKER_UPSTREAM } from './render-worker.js';
import { MAX_RANGES } from './ranges.js';
import { defaultDecisionCachePaths, imageDecisionCacheOn, renderImageDecisionLocations, type DecisionCachePaths, type ImageSources } from './render-decision-cache.js';

const CACHE_ZONE = 'sluice_img';

/** imgproxy's response policy: an image can never become an active document. */
export const IMAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox";

/**
 * The app's Cache-Control for a successful result, in a private header: nginx adds it on success
 * only, so an error (worker refusal, worker down) never inherits the image's caching.
 */
export const IMAGE_CACHE_CONTROL_HEADER = 'X-Sluice-Img-Cache-Control';

export function imageLocation(internalPrefix: string): string {
  return `${internalPrefix}/img`;
}

/** Lines for the http include: the result cache. */
export function renderTransformHttp(config: SluiceConfig): string[] {
  const { worker } = config;
  if (!config.transform.enabled || !worker.cache.enabled) return [];
  return [
    '# Transform results. A relative path is under nginx\'s prefix (-p).',
    `proxy_cache_path ${worker.cache.dir} levels=1:2 keys_zone=${CACHE_ZONE}:16m max_size=${worker.cache.maxSize} inactive=${worker.cache.inactive} use_temp_path=off;`,
  ];
}

/**
 * Lines for the server include: public image prefixes and the internal worker location. With
 * transform.decisionCache, each prefix asks the app with a cached auth_request instead
 * (render-decision-cache.ts) and jumps to its own copy of the worker location.
 */
export function renderTransformServer(config: SluiceConfig, paths: DecisionCachePaths = defaultDecisionCachePaths(config)): string[] {
  if (!config.transform.enabled) return [];
  const { transform, worker } = config;
  const body = (sources: ImageSources): string[] => workerDirectives(sources, worker.cache.enabled, worker.cache.valid, worker.requestTimeoutMs);
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
  return lines;
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
function workerDirectives(sources: ImageSources, cache: boolean, valid: string, requestTimeoutMs: number): string[] {
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
          '    proxy_ignore_headers Cache-Control Expires Set-Cookie Vary X-Accel-Expires X-Accel-Redirect X-Accel-Limit-Rate X-Accel-Buffering X-Accel-Charset;',
        ]
      : ['    proxy_set_header If-None-Match $http_if_none_match;']),
    `    proxy_read_timeout ${Math.ceil(requestTimeoutMs / 1000) + 5}s;`,
    '    # nginx builds Range answers from cached results itself: one range, never a multipart body.',
    `    max_ranges ${MAX_RANGES};`,
    '    proxy_hide_header X-Request-Id;',
    '    proxy_hide_header X-Content-Type-Options;',
    '    add_header X-Content-Type-Options nosniff always;',
    `    add_header Content-Security-Policy "${IMAGE_CSP}" always;`,
    '    add_header Vary $sluice_img_vary;',
    '    add_header Content-Disposition $sluice_disposition;',
    "    # Success only; the worker's own errors say no-store.",
    '    add_header Cache-Control $sluice_img_cache_control;',
    '    # The worker down or silent: a short JSON answer, not nginx\'s HTML page.',
    `    error_page 502 504 = ${sources.workerUnavailable};`,
  ];
}
