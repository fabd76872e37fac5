// The download headers an auth_request answer hands to nginx for a file nginx serves itself (a
// protected location). One table: the app sets the private names on its 204, the renderer reads
// the same names back with auth_request_set and re-adds them with add_header.
import { DISPOSITION_HEADER } from './locations.js';
import { upstreamVar } from './app-proxy.js';

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

function variableOf(carried: CarriedHeader): string {
  return `$sluice_protected_${carried.header.toLowerCase().replace(/-/g, '_')}`;
}

/**
 * Directives for a protected location: read each carried header from the auth_request answer and
 * add it to nginx's response. The type is the app's alone: `types {}` with an empty default_type
 * leaves nginx's own Content-Type empty (nginx 1.22 takes no variable in default_type, and an
 * add_header Content-Type next to a mime.types type would send two).
 */
export function protectedHeaderDirectives(): string[] {
  const lines: string[] = [];
  for (const carried of PROTECTED_HEADERS) lines.push(`auth_request_set ${variableOf(carried)} ${upstreamVar(carried.privateHeader)};`);
  lines.push('types { }', 'default_type "";');
  for (const carried of PROTECTED_HEADERS) lines.push(`add_header ${carried.header} ${variableOf(carried)}${carried.always ? ' always' : ''};`);
  return lines;
}
