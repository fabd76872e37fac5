// nginx locations for the access endpoints, rendered only when they are configured:
//   - the internal auth_request target (sharing.authRequest.locations), which passes the
//     client's raw request line to the app;
//   - the share links API (sharing.keys), which, unlike downloads, carries a small JSON body.
// The protected locations themselves are the operator's (see renderProtectedLocation).
import path from 'node:path';
import type { SluiceConfig } from '../config/schema.js';
import { ConfigError } from '../config/errors.js';
import { authRequestLocation } from '../contract/nginx-locations.js';
import { APP_PROXY_DIRECTIVES, indent, NO_REQUEST_BODY, ORIGINAL_REQUEST_HEADERS } from './app-proxy.js';
import { protectedHeaderDirectives } from './protected-headers.js';
import { MAX_RANGES } from './ranges.js';
import { errorPages, renderErrorLocations, STORE_ERROR_STATUSES } from './render-errors.js';

/** nginx's own answers in a protected location that become Sluice's JSON (render-errors.ts). */
export const PROTECTED_ERROR_STATUSES: readonly number[] = [401, 403, 404, 412, 416, 500];

export function renderAccessLocations(config: SluiceConfig): string[] {
  const lines: string[] = [];
  if (Object.keys(config.sharing.authRequest.locations).length > 0) {
    lines.push(
      ...renderErrorLocations(
        config.nginx.internalPrefix,
        PROTECTED_ERROR_STATUSES.filter((status) => !STORE_ERROR_STATUSES.includes(status)),
      ),
      '',
      '# auth_request target: nginx asks Sluice before serving a protected location itself.',
      `location = ${authRequestLocation(config.nginx.internalPrefix)} {`,
      '    internal;',
      ...indent(APP_PROXY_DIRECTIVES),
      '    # The raw request line, not $uri: Sluice refuses what nginx would normalize.',
      ...indent(ORIGINAL_REQUEST_HEADERS),
      ...indent(NO_REQUEST_BODY),
      '}',
    );
  }
  if (config.sharing.keys.length > 0) {
    lines.push(
      '',
      '# Share links API: mint (POST) and revoke (DELETE), with a small JSON body.',
      `location ^~ ${config.prefix}/_share {`,
      ...indent(APP_PROXY_DIRECTIVES),
      '    client_max_body_size 8k;',
      '}',
    );
  }
  return lines;
}

export interface ProtectedLocationInput {
  /** URL path prefix, as in sharing.authRequest.locations (e.g. /protected). */
  readonly path: string;
  /** Directory nginx serves under that prefix: the root of the store the prefix maps to. */
  readonly root: string;
  readonly internalPrefix: string;
}

/**
 * A location nginx serves itself, guarded by Sluice (documentation and tests). The auth_request
 * answer carries the headers a download through Sluice would have (type, disposition, caching,
 * CSP sandbox for active content, nosniff): an uploaded .html or .svg is never a page on this
 * origin, whatever nginx's mime.types says about its extension.
 */
export function renderProtectedLocation(input: ProtectedLocationInput): string {
  const root = path.resolve(input.root).replace(/\/+$/, '');
  if (/[$"'{};\\\n\r]/.test(root + input.path))
    throw ConfigError.forKey('sharing.authRequest.locations', 'path or root contains a character nginx cannot take');
  return [
    `location ^~ ${input.path}/ {`,
    `    auth_request ${authRequestLocation(input.internalPrefix)};`,
    // Trailing slashes on both sides: the "off-by-slash" alias traversal needs a mismatch.
    `    alias "${root}/";`,
    `    disable_symlinks on from="${root}";`,
    '    try_files $uri =404;',
    "    # The app's download headers for this file; the type is the app's, never mime.types'.",
    ...indent(protectedHeaderDirectives()),
    '    # One range per request: never a multipart body larger than the file.',
    `    max_ranges ${MAX_RANGES};`,
    "    # nginx's own errors (refusals, missing files, Range, preconditions) as Sluice's short JSON.",
    ...indent(errorPages(input.internalPrefix, PROTECTED_ERROR_STATUSES)),
    '}',
  ].join('\n');
}
