// Names shared by the decision endpoint (src/http/routes/decide.ts) and its nginx locations
// (render-decision-cache.ts), so the two can never drift apart.

/** The auth_request target whose answers nginx caches; the app answers on the same path. */
export function decideLocation(internalPrefix: string): string {
  return `${internalPrefix}/decide`;
}

/** The image forms whose decisions nginx may cache (transform.decisionCache). */
export type ImageForm = 'native' | 'imgproxy';

/** The auth_request target of one image URL form (its own cache key; same zone as downloads). */
export function imageDecideLocation(internalPrefix: string, form: ImageForm): string {
  return `${internalPrefix}/decide-img/${form}`;
}

/**
 * The `<store>` segment an image decision jumps to (`<decided>/<segment>/<route>`): it starts with
 * "_", which no store name can (storeName), and still matches the shared error locations.
 */
export const IMAGE_ROUTE_SEGMENT: Readonly<Record<ImageForm, string>> = { native: '_img', imgproxy: '_imgproxy' };

/** Prefix of the locations a decided request jumps to: `<prefix>/<store>/<route>`. */
export function decidedPrefix(internalPrefix: string): string {
  return `${internalPrefix}/dc`;
}

/** Private headers of the decision (answer) and of nginx's question (material). */
export const DC = {
  /** "serve", or "error/<status>" for a refusal or failure the app carries. */
  route: 'X-Sluice-Dc-Route',
  /** The canonical key's UTF-8 bytes (fs: the file below the root; every store: the audit line). */
  key: 'X-Sluice-Dc-Key',
  /** Bytes per second (0 = no limit): the rule's limitRate. */
  limitRate: 'X-Sluice-Dc-Limit-Rate',
  subject: 'X-Sluice-Dc-Subject',
  rule: 'X-Sluice-Dc-Rule',
  /** "<seconds> (<the bound that won>)", for the audit line. */
  ttl: 'X-Sluice-Dc-Ttl',
  /** base64url(md5(material)): nginx checks it against the request's credentials on every use. */
  binding: 'X-Sluice-Dc-Binding',
  /** Request header: the credentials exactly as nginx will check them ("<authorization>|<cookie token>|<share>"). */
  material: 'X-Sluice-Dc-Material',
  /** JSON body of a carried error. */
  errorBody: 'X-Sluice-Dc-Error',
  retryAfter: 'X-Sluice-Dc-Retry-After',
  wwwAuthenticate: 'X-Sluice-Dc-Www-Authenticate',
  /** Images: the source's store, for the audit line (downloads know it from their location). */
  store: 'X-Sluice-Dc-Store',
  /** Images: the answer's `Vary` (never sent as Vary itself: nginx's cache would key on it). */
  vary: 'X-Sluice-Dc-Vary',
  /**
   * Images, request header: the client address nginx put into the cache key ("" when the key
   * holds a credential instead). A ticket whose budget client is an address must name this one.
   */
  client: 'X-Sluice-Dc-Client',
} as const;

/** Statuses the app's answer may carry (anything else becomes 403 or 500). */
export const DC_ERROR_STATUSES: readonly number[] = [400, 401, 403, 404, 405, 410, 429, 500, 502, 503, 504];

/** A header value nginx takes as it is inside double quotes: no variable, quote, escape or control character. */
const NGINX_LITERAL = /^[^$"'{};\\\u0000-\u001f\u007f]+$/;

/**
 * Download headers that are the same for every file of a store: its serving location states them,
 * so a decision does not carry them (fewer values per hit). nosniff always; the store's
 * Cache-Control when nginx can take it as a literal (else the decision carries it as before).
 */
export function storeConstantHeaders(cacheControl: string): Readonly<Record<string, string>> {
  return { ...(NGINX_LITERAL.test(cacheControl) && { 'Cache-Control': cacheControl }), 'X-Content-Type-Options': 'nosniff' };
}
