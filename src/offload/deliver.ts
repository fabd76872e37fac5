// How an allowed request becomes bytes: the store's delivery mode decides, never its kind.
import type { Context } from 'koa';
import { DISPOSITION_HEADER } from '../contract/headers.js';
import type { CanonicalKey, ReadMethod, Store } from '../storage/types.js';
import { deliverStream } from './stream.js';

export async function deliver(ctx: Context, store: Store, key: CanonicalKey): Promise<void> {
  const method: ReadMethod = ctx.method === 'HEAD' ? 'HEAD' : 'GET';
  switch (store.delivery) {
    case 'nginx':
      return deliverAccel(ctx, store, key, method);
    case 'redirect':
      return deliverRedirect(ctx, store, key, method);
    case 'stream':
      return deliverStream(ctx, store, key);
  }
}

/** 200 with an empty body and X-Accel-Redirect: nginx moves the bytes (Range, HEAD, 304 included). */
async function deliverAccel(ctx: Context, store: Store, key: CanonicalKey, method: ReadMethod): Promise<void> {
  const target = await store.accelTarget(key, method);
  ctx.set(target.headers);
  const disposition = ctx.response.get('Content-Disposition');
  if (disposition !== '') {
    ctx.remove('Content-Disposition');
    ctx.set(DISPOSITION_HEADER, disposition);
  }
  ctx.set('X-Accel-Redirect', target.location);
  ctx.status = 200;
  ctx.body = '';
}

/**
 * 302 to a short-lived presigned URL (a reusable link for its lifetime; documented). The type,
 * disposition and caching the app chose are signed into the URL, so storage answers with them.
 */
async function deliverRedirect(ctx: Context, store: Store, key: CanonicalKey, method: ReadMethod): Promise<void> {
  const url = await store.presignedUrl(key, method, {
    contentType: ctx.response.get('Content-Type') || undefined,
    contentDisposition: ctx.response.get('Content-Disposition') || undefined,
    cacheControl: ctx.response.get('Cache-Control') || undefined,
  });
  ctx.remove('Content-Disposition');
  ctx.remove('Content-Type');
  ctx.set('Cache-Control', 'no-store');
  ctx.status = 302;
  ctx.set('Location', url);
  ctx.body = '';
}
