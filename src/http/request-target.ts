// The raw path of an HTTP request-target, the one spelling every route canonicalizes.
import { badRequest } from '../errors.js';

/**
 * The request-target up to its query. A literal "#" is refused (400): a request-target never
 * carries a fragment, and nginx ends `$uri` at "#" while the rest of the line reaches the app —
 * the decision would be about one key and the file another. "%23" stays a name character.
 */
export function rawPathOf(target: string): string {
  const path = target.split('?', 1)[0] as string;
  if (path.includes('#')) throw badRequest('raw # in the request path (encode it as %23)');
  return path;
}
