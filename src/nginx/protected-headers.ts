// The protected location's directives for the carried download headers (the table is the
// contract's: src/contract/headers.ts).
import { PROTECTED_HEADERS, type CarriedHeader } from '../contract/headers.js';
import { upstreamVar } from './app-proxy.js';

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
