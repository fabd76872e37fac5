import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';

const ACCEPTABLE_ID = /^[A-Za-z0-9._-]{8,128}$/;

/** Reuses nginx's $request_id (sent as X-Request-Id) so app and nginx logs line up. */
export async function requestId(ctx: Context, next: Next): Promise<void> {
  const incoming = ctx.get('X-Request-Id');
  const id = ACCEPTABLE_ID.test(incoming) ? incoming : randomUUID();
  ctx.state.requestId = id;
  ctx.set('X-Request-Id', id);
  await next();
}
