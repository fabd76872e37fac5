/**
 * An error the client may see: an HTTP status and a short public reason. Anything else that is
 * thrown is an internal error and is answered with a bare 500 (details go to the log only).
 */
export class PublicError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly headers: Readonly<Record<string, string>> = {},
    /** What really went wrong: logged for 5xx answers, never sent to the client. */
    cause?: unknown,
  ) {
    super(reason, cause === undefined ? undefined : { cause });
    this.name = 'PublicError';
  }
}

export const badRequest = (reason: string): PublicError => new PublicError(400, reason);
export const notFound = (reason = 'not found'): PublicError => new PublicError(404, reason);
export const storageUnavailable = (cause?: unknown): PublicError => new PublicError(502, 'storage unavailable', {}, cause);

/** The RFC 6750 challenge of every 401: Sluice's credentials are bearer tokens. */
export const BEARER_CHALLENGE = 'Bearer realm="sluice"';

/** 401 for a caller without credentials who might be allowed with them. */
export const authenticationRequired = (): PublicError => new PublicError(401, 'authentication required', { 'WWW-Authenticate': BEARER_CHALLENGE });
