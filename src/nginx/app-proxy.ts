// Directives shared by every location that hands a public request to the Sluice app.

/** Proxy to the app over keepalive, with the request id and client address it logs. */
export const APP_PROXY_DIRECTIVES: readonly string[] = [
  'proxy_pass http://sluice_app;',
  'proxy_http_version 1.1;',
  'proxy_set_header Connection "";',
  'proxy_set_header Host $host;',
  'proxy_set_header X-Request-Id $request_id;',
  'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
  'proxy_set_header X-Forwarded-Proto $scheme;',
  // Only errors nginx itself produces (app down or not answering), never the app's own answers.
  'error_page 502 504 = @sluice_app_unavailable;',
];

/** auth_request subrequests: the client's raw request line (not $uri, which nginx normalized) and method. */
export const ORIGINAL_REQUEST_HEADERS: readonly string[] = [
  'proxy_set_header X-Original-URI $request_uri;',
  'proxy_set_header X-Original-Method $request_method;',
];

/** For routes that only read: the body is never needed by the app. */
export const NO_REQUEST_BODY: readonly string[] = ['proxy_pass_request_body off;', 'proxy_set_header Content-Length "";'];

/** The app answers with a private header carrying a long presigned path or ticket. */
export const LONG_RESPONSE_HEADERS: readonly string[] = ['proxy_buffer_size 16k;', 'proxy_buffers 8 16k;'];

export function indent(lines: readonly string[], prefix = '    '): string[] {
  return lines.map((line) => `${prefix}${line}`);
}

/** nginx's variable for a header of the upstream's (the app's) response. */
export function upstreamVar(header: string): string {
  return `$upstream_http_${header.toLowerCase().replace(/-/g, '_')}`;
}

/** Request headers that make Range and conditional requests work, for locations that pass no others. */
export const CONDITIONAL_HEADERS: readonly string[] = ['Range', 'If-Range', 'If-None-Match', 'If-Modified-Since', 'If-Match', 'If-Unmodified-Since'];

/** `proxy_set_header` lines forwarding the client's CONDITIONAL_HEADERS; `values` replaces a header's variable. */
export function forwardConditionalHeaders(values: Readonly<Record<string, string>> = {}): string[] {
  return CONDITIONAL_HEADERS.map((h) => `proxy_set_header ${h} ${values[h] ?? `$http_${h.toLowerCase().replace(/-/g, '_')}`};`);
}

/** Where an S3 origin is: the fixed upstream nginx proxies to and the Host header it sends. */
export interface S3ProxyOrigin {
  readonly scheme: string;
  readonly host: string;
  readonly hostHeader: string;
}

/**
 * proxy_pass to an S3 origin with a path+query the app or worker signed: the host is fixed here,
 * keepalive, TLS name when https, and nothing of the client's request (no headers, no body).
 */
export function s3ProxyDirectives(origin: S3ProxyOrigin, upstream: string, pathVar: string): string[] {
  return [
    `proxy_pass ${origin.scheme}://${upstream}${pathVar};`,
    `proxy_set_header Host "${origin.hostHeader}";`,
    ...(origin.scheme === 'https' ? ['proxy_ssl_server_name on;', `proxy_ssl_name ${origin.host};`] : []),
    'proxy_http_version 1.1;',
    'proxy_set_header Connection "";',
    'proxy_pass_request_headers off;',
    ...NO_REQUEST_BODY,
  ];
}
