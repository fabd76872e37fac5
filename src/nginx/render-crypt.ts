// nginx configuration for encrypted stores: downloads go to the worker (it decrypts only the
// chunks a Range needs), uploads stream through the worker (it encrypts on the way). The app
// decides both; its ticket travels in a private header and never reaches the client.
import type { SluiceConfig } from '../config/schema.js';
import { DISPOSITION_HEADER } from '../contract/headers.js';
import { cryptLocation, encryptedUploadPath, uploadAuthLocation } from '../contract/nginx-locations.js';
import { CRYPT_TICKET_HEADER } from '../contract/tickets.js';
import { CRYPT_READ_PATH, CRYPT_WRITE_PATH } from '../contract/worker-paths.js';
import { forwardConditionalHeaders, indent, upstreamVar } from './app-proxy.js';
import { WORKER_UPSTREAM } from './render-worker.js';

export function encryptedStoreNames(config: SluiceConfig): string[] {
  return Object.entries(config.stores)
    .filter(([, store]) => store.encrypted)
    .map(([name]) => name);
}

/** Encrypted stores that accept uploads. */
export function encryptedUploadStores(config: SluiceConfig): string[] {
  if (!config.uploads.enabled) return [];
  const accepting = new Set(config.uploads.stores ?? Object.keys(config.stores));
  return encryptedStoreNames(config).filter((name) => accepting.has(name));
}

const WORKER_PROXY: readonly string[] = [
  'proxy_http_version 1.1;',
  'proxy_set_header Connection "";',
  "# The worker gets the ticket, never the client's Authorization or Cookie.",
  'proxy_pass_request_headers off;',
  `proxy_set_header ${CRYPT_TICKET_HEADER} $sluice_crypt_ticket;`,
  'proxy_set_header X-Request-Id $request_id;',
];

export function renderCryptServer(config: SluiceConfig): string[] {
  if (encryptedStoreNames(config).length === 0) return [];
  const timeout = config.ops.storageTimeoutSeconds;
  const lines = [
    '',
    '# Encrypted stores: the worker decrypts what the app allowed, fetching only the chunks a',
    '# Range needs; a chunk is sent only after its authentication tag verified.',
    `location = ${cryptLocation(config.nginx.internalPrefix)} {`,
    '    internal;',
    `    set $sluice_crypt_ticket ${upstreamVar(CRYPT_TICKET_HEADER)};`,
    '    set $sluice_csp $upstream_http_content_security_policy;',
    `    set $sluice_disposition ${upstreamVar(DISPOSITION_HEADER)};`,
    `    proxy_pass http://${WORKER_UPSTREAM}${CRYPT_READ_PATH};`,
    ...indent(WORKER_PROXY),
    '    proxy_pass_request_body off;',
    '    proxy_set_header Content-Length "";',
    ...indent(forwardConditionalHeaders()),
    '    # The app decides type, disposition and caching.',
    ...['Content-Type', 'Content-Disposition', 'Cache-Control', 'X-Request-Id', 'X-Content-Type-Options'].map((h) => `    proxy_hide_header ${h};`),
    '    add_header X-Content-Type-Options nosniff always;',
    '    add_header Content-Security-Policy $sluice_csp always;',
    '    add_header Content-Disposition $sluice_disposition;',
    '    proxy_buffers 8 64k;',
    '    proxy_max_temp_file_size 0;',
    `    proxy_read_timeout ${timeout}s;`,
    '    proxy_intercept_errors on;',
    '    error_page 404 = @sluice_not_found;',
    '    # 500: the object failed verification or its key is missing (details in the worker log).',
    '    error_page 403 500 = @sluice_storage_error;',
    '    error_page 502 503 504 = @sluice_worker_unavailable;',
    '}',
  ];
  for (const name of encryptedUploadStores(config)) {
    lines.push(
      '',
      `# Encrypted store "${name}": uploads stream through the worker, which encrypts them;`,
      '# auth_request asks the app first, before any body byte is read.',
      `location ^~ ${encryptedUploadPath(config.prefix)}${name}/ {`,
      '    limit_except PUT { deny all; }',
      `    auth_request ${uploadAuthLocation(config.nginx.internalPrefix)};`,
      `    auth_request_set $sluice_crypt_ticket ${upstreamVar(CRYPT_TICKET_HEADER)};`,
      `    client_max_body_size ${config.uploads.maxBytes};`,
      '    # Streamed: neither nginx nor the worker holds the whole body.',
      '    proxy_request_buffering off;',
      `    set $sluice_crypt_write ${CRYPT_WRITE_PATH};`,
      `    proxy_pass http://${WORKER_UPSTREAM}$sluice_crypt_write;`,
      ...indent(WORKER_PROXY),
      `    proxy_read_timeout ${timeout * 10}s;`,
      '    error_page 502 504 = @sluice_worker_unavailable;',
      '}',
    );
  }
  return lines;
}
