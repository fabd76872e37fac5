// nginx locations for uploads, rendered only when uploads are enabled:
//   - the JSON API (plan/complete/abort): a small body for the app; S3 bytes never pass nginx;
//   - per upload-enabled fs store, the offloaded PUT: auth_request asks the app BEFORE the body
//     is read, then nginx writes the body to a temp file beside the store (same filesystem, so
//     the app can link it into place) and passes the app only the file's path;
//   - the internal auth_request target for those PUTs.
import path from 'node:path';
import type { SluiceConfig } from '../config/schema.js';
import { BODY_FILE_HEADER } from '../contract/headers.js';
import { fsLocationPrefix, fsUploadPath, uploadAuthLocation } from '../contract/nginx-locations.js';
import { UPLOAD_TMP_DIR } from '../uploads/fs-finalize.js';
import { APP_PROXY_DIRECTIVES, indent, NO_REQUEST_BODY, ORIGINAL_REQUEST_HEADERS } from './app-proxy.js';
import { encryptedUploadStores } from './render-crypt.js';

export function renderUploadLocations(config: SluiceConfig): string[] {
  if (!config.uploads.enabled) return [];
  const lines = [
    '',
    '# Uploads API: plan (POST), complete (POST) and abort (DELETE), with a small JSON body.',
    `location ^~ ${config.prefix}/_uploads {`,
    ...indent(APP_PROXY_DIRECTIVES),
    `    proxy_set_header ${BODY_FILE_HEADER} "";`,
    '    client_max_body_size 256k;',
    '}',
  ];
  const fsStores = (config.uploads.stores ?? Object.keys(config.stores)).filter(
    (name) => config.stores[name]?.type === 'fs' && !config.stores[name]?.encrypted,
  );
  for (const name of fsStores) {
    const store = config.stores[name];
    if (store?.type !== 'fs') continue;
    // The root was already checked for nginx-unsafe characters by the store's own location.
    const tmp = path.join(path.resolve(store.root), UPLOAD_TMP_DIR);
    lines.push(
      '',
      `# fs store "${name}": uploads offloaded to nginx; the body never reaches the app.`,
      `location ^~ ${fsUploadPath(config.prefix)}${name}/ {`,
      '    limit_except PUT { deny all; }',
      `    auth_request ${uploadAuthLocation(config.nginx.internalPrefix)};`,
      `    client_max_body_size ${config.uploads.maxBytes};`,
      '    client_body_in_file_only clean;',
      `    client_body_temp_path "${tmp}";`,
      ...indent(APP_PROXY_DIRECTIVES),
      `    proxy_set_header ${BODY_FILE_HEADER} $request_body_file;`,
      ...indent(NO_REQUEST_BODY),
      '}',
      '',
      '# Bodies still being received are never downloadable (longer prefix than the store location).',
      `location ^~ ${fsLocationPrefix(config.nginx.internalPrefix, name)}${UPLOAD_TMP_DIR}/ {`,
      '    internal;',
      '    return 404;',
      '}',
    );
  }
  if (fsStores.length > 0 || encryptedUploadStores(config).length > 0) {
    lines.push(
      '',
      '# auth_request target for fs and encrypted uploads: the raw request line, not $uri.',
      `location = ${uploadAuthLocation(config.nginx.internalPrefix)} {`,
      '    internal;',
      ...indent(APP_PROXY_DIRECTIVES),
      ...indent(ORIGINAL_REQUEST_HEADERS),
      // The subrequest carries the upload's Content-Length (never its body): the default 1m limit would answer 413.
      `    client_max_body_size ${config.uploads.maxBytes};`,
      ...indent(NO_REQUEST_BODY),
      '}',
    );
  }
  return lines;
}
