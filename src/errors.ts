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
