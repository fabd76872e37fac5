// Where a bearer token may come from: the Authorization header or one named cookie. Never the
// query string: URLs end up in access logs, browser history and Referer headers.
import { BEARER_CHALLENGE, PublicError } from '../errors.js';
import type { Credentials } from './types.js';

export interface TokenSourceOptions {
  readonly cookieName?: string | undefined;
  readonly maxTokenBytes: number;
}

/** The one 401 every token problem turns into: short, and never echoing the token. */
export function invalidToken(): PublicError {
  return new PublicError(401, 'invalid token', { 'WWW-Authenticate': `${BEARER_CHALLENGE}, error="invalid_token"` });
}

/**
 * The raw token, or null when the request carries none. A Bearer header wins over the cookie;
 * an Authorization header with another scheme (e.g. Basic from a proxy) is ignored.
 * Throws the 401 for a malformed Bearer header or a token larger than maxTokenBytes.
 */
export function extractToken(credentials: Credentials, options: TokenSourceOptions): string | null {
  const bearer = bearerToken(credentials.authorization);
  const token = bearer ?? (options.cookieName === undefined ? null : cookieValue(credentials.cookie, options.cookieName));
  if (token === null) return null;
  if (Buffer.byteLength(token, 'utf8') > options.maxTokenBytes) throw invalidToken();
  return token;
}

const BEARER = 'bearer';

function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null;
  const value = header.trim();
  if (value === '') return null;
  const space = value.search(/\s/);
  const scheme = space === -1 ? value : value.slice(0, space);
  if (scheme.toLowerCase() !== BEARER) return null;
  const token = space === -1 ? '' : value.slice(space).trim();
  // "Bearer" alone or "Bearer a b" is a broken attempt at a token, not an absent one.
  if (token === '' || /\s/.test(token)) throw invalidToken();
  return token;
}

/** First cookie with exactly this name (RFC 6265: names are case-sensitive); empty counts as absent. */
function cookieValue(header: string | undefined, name: string): string | null {
  if (header === undefined) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    return value === '' ? null : value;
  }
  return null;
}
