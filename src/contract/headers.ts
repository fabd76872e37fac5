// Private X-Sluice-* headers between the app and nginx. nginx reads them from the app's answer
// and never forwards them to the client.

/** Private response header carrying the presigned path+query for the S3 internal location. */
export const S3_PATH_HEADER = 'X-Sluice-S3-Path';

/**
 * Private response header carrying Content-Disposition in nginx mode: the internal locations
 * re-add it on success only, so nginx's own error pages never arrive as a named download.
 */
export const DISPOSITION_HEADER = 'X-Sluice-Disposition';

/**
 * The app's Cache-Control for a successful image result, in a private header: nginx adds it on
 * success only, so an error (worker refusal, worker down) never inherits the image's caching.
 */
export const IMAGE_CACHE_CONTROL_HEADER = 'X-Sluice-Img-Cache-Control';

/** Request header nginx adds to an fs upload: the temp file holding the body. */
export const BODY_FILE_HEADER = 'X-Sluice-Body-File';

/**
 * The download headers an auth_request answer hands to nginx for a file nginx serves itself (a
 * protected location). One table: the app sets the private names on its 204, the renderer reads
 * the same names back with auth_request_set and re-adds them with add_header.
 */
export interface CarriedHeader {
  /** The header the client sees. */
  readonly header: string;
  /** Private header on the auth_request answer (nginx never forwards those to the client). */
  readonly privateHeader: string;
  /**
   * true: on every answer (guards: CSP sandbox, nosniff). false: on success only — the file's own
   * description, which must never label one of nginx's error pages.
   */
  readonly always: boolean;
}

export const PROTECTED_HEADERS: readonly CarriedHeader[] = [
  { header: 'Content-Type', privateHeader: 'X-Sluice-Content-Type', always: false },
  { header: 'Content-Disposition', privateHeader: DISPOSITION_HEADER, always: false },
  { header: 'Cache-Control', privateHeader: 'X-Sluice-Cache-Control', always: false },
  { header: 'Content-Security-Policy', privateHeader: 'X-Sluice-Csp', always: true },
  { header: 'X-Content-Type-Options', privateHeader: 'X-Sluice-Nosniff', always: true },
];

/** The download headers (as `downloadHeaders` builds them) renamed to their private carriers. */
export function privateDownloadHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const carried: Record<string, string> = {};
  for (const { header, privateHeader } of PROTECTED_HEADERS) {
    const value = headers[header];
    if (value !== undefined) carried[privateHeader] = value;
  }
  return carried;
}
