// nginx's auth_request understands only 2xx, 401 and 403 (anything else is an error there).
import type { Context, Next } from 'koa';
import { PublicError } from '../../errors.js';

/** 400 (bad key), 404, 405, 410, 429 … all become 403; 401 and server errors pass unchanged. */
export async function onlyAuthRequestStatuses(_ctx: Context, next: Next): Promise<void> {
  try {
    await next();
  } catch (error) {
    if (error instanceof PublicError && error.status !== 401 && error.status < 500) {
      throw new PublicError(403, 'forbidden', {}, error);
    }
    throw error;
  }
}
