// Sluice's short JSON answers for errors nginx itself produces (Range, preconditions, storage and
// auth_request refusals), so the client sees the same shape as the app's own errors.
//
// These are internal URI locations, not named ones: an internal redirect to a URI resets the
// Content-Type nginx had already chosen for the file (a named location keeps it, so a 416 for
// a.txt would be labelled text/plain), and keeps headers such as Content-Range and
// WWW-Authenticate that belong to the error.

/**
 * Type directives of every JSON error location. A named location keeps the request's URI, so
 * without an empty `types` an operator's mime.types would type the JSON by the file's extension
 * (a 404 for x.html as text/html).
 */
export const JSON_ERROR_TYPE: readonly string[] = ['types { }', 'default_type application/json;'];

/** Status → reason; the same words as the app's own answers (src/http/error-responses.ts). */
export const NGINX_ERROR_REASONS: Readonly<Record<number, string>> = {
  401: 'authentication required',
  403: 'forbidden',
  404: 'not found',
  412: 'precondition failed',
  416: 'range not satisfiable',
  500: 'internal error',
};

/** Statuses of nginx's own answers in the fs and S3 store locations that go to these locations. */
export const STORE_ERROR_STATUSES: readonly number[] = [412, 416];

export function errorLocation(internalPrefix: string, status: number): string {
  if (NGINX_ERROR_REASONS[status] === undefined) throw new Error(`no error location for ${status}`);
  return `${internalPrefix}/error/${status}`;
}

/** `error_page` lines sending each status to its JSON answer. */
export function errorPages(internalPrefix: string, statuses: readonly number[]): string[] {
  return statuses.map((status) => `error_page ${status} = ${errorLocation(internalPrefix, status)};`);
}

/** Lines for the server include: one location per status the rendered locations send there. */
export function renderErrorLocations(internalPrefix: string, statuses: readonly number[]): string[] {
  const lines: string[] = [];
  for (const status of [...new Set(statuses)].sort((a, b) => a - b)) {
    lines.push(
      '',
      `location = ${errorLocation(internalPrefix, status)} {`,
      '    internal;',
      ...JSON_ERROR_TYPE.map((line) => `    ${line}`),
      '    add_header X-Content-Type-Options nosniff always;',
      `    return ${status} '{"error":"${NGINX_ERROR_REASONS[status] as string}"}\\n';`,
      '}',
    );
  }
  return lines;
}
