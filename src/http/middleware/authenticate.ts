import type { Context, Next } from 'koa';
import type { Authenticator, Credentials } from '../../auth/types.js';
import { PublicError } from '../../errors.js';
import type { AccessState } from './access-state.js';

/** Where a route finds the caller's credentials. */
export type CredentialSource = (ctx: Context) => Credentials;

/**
 * Sets state.subject (anonymous when no credentials); a bad token ends the request with 401.
 * By default the credentials are the bearer header, the cookie and a `share` link parameter.
 */
export function authenticate(authenticator: Authenticator, credentialsOf: CredentialSource = requestCredentials) {
  return async function authenticateMiddleware(ctx: Context, next: Next): Promise<void> {
    (ctx.state as AccessState).subject = await authenticator.authenticate(credentialsOf(ctx));
    await next();
  };
}

/** Bearer header or cookie only: for endpoints a share link must never authenticate. */
export function tokenCredentials(ctx: Context): Credentials {
  return { authorization: ctx.get('Authorization') || undefined, cookie: ctx.get('Cookie') || undefined };
}

export function requestCredentials(ctx: Context): Credentials {
  return { authorization: ctx.get('Authorization') || undefined, cookie: ctx.get('Cookie') || undefined, shareToken: shareTokenOf(ctx.querystring) };
}

/** The `share` query parameter; two of them are an ambiguous request, not a choice to make. */
export function shareTokenOf(query: string): string | undefined {
  if (query === '') return undefined;
  const values = new URLSearchParams(query).getAll('share');
  if (values.length > 1 || values[0] === '') throw new PublicError(401, 'invalid share link');
  return values[0];
}
