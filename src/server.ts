// Composition root: builds every part from the validated config and starts the HTTP server.
import type Router from '@koa/router';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createJwtAuthenticator } from './auth/jwt-authenticator.js';
import type { SluiceConfig } from './config/schema.js';
import { createApp } from './http/app.js';
import { imageRoutes } from './http/routes/images.js';
import { uploadRoutes } from './http/routes/uploads.js';
import { createBufferedLogger, flushLogger, type Logger } from './observability/logger.js';
import { appRouteLabels, createMetrics } from './observability/metrics.js';
import { createPolicyEngine } from './policy/engine.js';
import { openSharedState } from './state/shared-state.js';
import { createAccessControl } from './http/access-control.js';
import { createStores } from './storage/registry.js';
import type { Store } from './storage/types.js';
import { withEncryptedDelivery } from './crypto/app-store.js';
import { drain } from './http/drain.js';
import { appAddress, exposedAppWarning } from './nginx/app-address.js';

export interface RunningSluice {
  /** host:port where nginx reaches the app (listening on config.appHost). */
  readonly address: string;
  readonly port: number;
  readonly logger: Logger;
  /**
   * Stops accepting, lets in-flight requests finish for up to `graceMs` (default 0: close at once),
   * then closes every connection and Redis, and flushes the log.
   */
  close(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  readonly logger?: Logger;
  /** Overrides config.appPort (0 = any free port). */
  readonly port?: number;
}

export async function startSluice(config: SluiceConfig, options: StartOptions = {}): Promise<RunningSluice> {
  const logger = options.logger ?? createBufferedLogger(config.logLevel);
  const stores = withoutResultStore(withEncryptedDelivery(await createStores(config), config), config);
  const tokenAuthenticator = await createJwtAuthenticator(config.auth);
  // Redis (url, Sentinel or Cluster) or memory; waits once for Redis to be ready.
  const state = await openSharedState(config, logger);
  const metrics = createMetrics();
  const policy = await createPolicyEngine(config, { logger, state }).catch((error: unknown) => {
    state.close(); // a plugin that fails to load must not leave a connection open
    throw error;
  });
  // Share links, revocation, rate limits, auth_request: around the token authenticator and the policy.
  const access = await createAccessControl(config, { state, logger, metrics, stores, authenticator: tokenAuthenticator, policy }).catch((error: unknown) => {
    state.close();
    throw error;
  });
  const authenticator = access.authenticator;
  const extraRoutes: Router[] = [...access.routes];
  if (config.transform.enabled)
    extraRoutes.push(imageRoutes({ config, stores, authenticator, policy: access.policy, logger, metrics, rateLimit: access.rateLimit }));
  if (config.uploads.enabled)
    extraRoutes.push(uploadRoutes({ config, stores, authenticator, policy: access.policy, logger, metrics, rateLimit: access.rateLimit, state }));
  const app = createApp({
    prefix: config.prefix,
    stores,
    authenticator,
    policy: access.policy,
    logger,
    metrics,
    extraRoutes,
    rateLimit: access.rateLimit,
    shareLinkUse: access.shareLinkUse,
    ops: { maintenanceFile: config.ops.maintenanceFile, redis: state.redis },
    routeLabel: appRouteLabels(config),
  });
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(options.port ?? config.appPort, config.appHost, () => resolve(s));
    s.once('error', reject);
  });
  server.keepAliveTimeout = 65_000; // longer than nginx's upstream keepalive_timeout (60 s)
  const port = (server.address() as AddressInfo).port;
  const address = appAddress(config.appHost, port);
  logger.info({ address, stores: [...stores.keys()] }, 'sluice app listening');
  const exposed = exposedAppWarning(config.appHost);
  if (exposed !== undefined) logger.warn({ appHost: config.appHost }, exposed);
  return {
    address,
    port,
    logger,
    close: async (graceMs = 0) => {
      await drain(server, graceMs, logger);
      state.close();
      await flushLogger(logger); // no audit line of a finished request is lost on shutdown
    },
  };
}

/**
 * The result store (transform.resultStore) holds private derivatives that only the worker reaches,
 * after the app allowed the image URL: no route of the app serves it, whatever the rules say.
 */
function withoutResultStore(stores: ReadonlyMap<string, Store>, config: SluiceConfig): ReadonlyMap<string, Store> {
  const name = config.transform.resultStore?.store;
  if (name === undefined) return stores;
  return new Map([...stores].filter(([storeName]) => storeName !== name));
}
