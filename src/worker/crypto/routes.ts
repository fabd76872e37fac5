// The worker tier's crypt endpoints, mounted into `sluice worker` next to /render.
import Router from '@koa/router';
import { CRYPT_READ_PATH, CRYPT_WRITE_PATH } from '../../contract/worker-paths.js';
import { cryptRead, type CryptReadDeps } from './read-route.js';
import { cryptWrite, type CryptWriteDeps } from './write-route.js';

export type CryptRouteDeps = CryptReadDeps & CryptWriteDeps;

export function cryptRoutes(deps: CryptRouteDeps): Router {
  const router = new Router();
  // @koa/router answers HEAD through the GET route; Koa then sends headers only.
  router.get(CRYPT_READ_PATH, (ctx) => cryptRead(ctx, deps));
  router.put(CRYPT_WRITE_PATH, (ctx) => cryptWrite(ctx, deps));
  return router;
}
