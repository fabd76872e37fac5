import type { Context, Next } from 'koa';
import type { Authenticator } from '../../auth/types.js';
import type { AccessState } from './access-state.js';

/** Sets state.subject (anonymous when no credentials); a bad token ends the request with 401. */
export function authenticate(authenticator: Authenticator) {
  return async function authenticateMiddleware(ctx: Context, next: Next): Promise<void> {
    (ctx.state as AccessState).subject = await authenticator.authenticate({
      authorization: ctx.get('Authorization') || undefined,
      cookie: ctx.get('Cookie') || undefined,
    });
    await next();
  };
}
