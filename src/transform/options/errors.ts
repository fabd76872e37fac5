// imgproxy answers every URL problem with 404 (bad option, bad source, expired); only a bad
// signature is 403. The reasons stay short and never echo more than a sanitized option name.
import { PublicError } from '../../errors.js';

export const invalidUrl = (): PublicError => new PublicError(404, 'invalid URL');

export const expiredUrl = (): PublicError => new PublicError(404, 'Expired URL');

export const sourceNotAllowed = (): PublicError => new PublicError(404, 'source not allowed');

export const invalidSignature = (): PublicError => new PublicError(403, 'invalid signature');

/** `name` is echoed only when it looks like an option name (it may come straight from the URL). */
export function invalidOption(name: string): PublicError {
  return new PublicError(404, /^[A-Za-z0-9_-]{1,40}$/.test(name) ? `invalid option ${name}` : 'invalid option');
}
