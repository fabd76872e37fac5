// The raw path of an HTTP request-target, the one spelling every route canonicalizes, and the
// store + key it names.
import { badRequest, notFound, PublicError } from '../errors.js';
import { canonicalizeKey } from '../storage/key.js';
import type { CanonicalKey, Store } from '../storage/types.js';

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

export interface StoreTarget {
  readonly store: Store;
  readonly key: CanonicalKey;
}

/**
 * `<routePrefix><store>/<key…>` of a RAW path (never the router's decoded params: the key is
 * decoded once, by canonicalizeKey). 404 outside the prefix or for an unknown store, 400 for a
 * store without a key.
 */
export function storeTargetOf(rawPath: string, routePrefix: string, stores: ReadonlyMap<string, Store>): StoreTarget {
  if (!rawPath.startsWith(routePrefix)) throw notFound();
  const rest = rawPath.slice(routePrefix.length);
  const slash = rest.indexOf('/');
  const store = stores.get(slash < 0 ? rest : rest.slice(0, slash));
  if (store === undefined) throw notFound('unknown store');
  if (slash < 0) throw new PublicError(400, 'missing key');
  return { store, key: canonicalizeKey(rest.slice(slash + 1)) };
}
