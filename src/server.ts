// Composition root: builds every part from the validated config and starts the HTTP server.
import type Router from '@koa/router';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createJwtAuthenticator } from './auth/jwt-authenticator.js';
import type { SluiceConfig } from './config/schema.js';
import { createApp } from './http/app.js';
import { createLogger, type Logger } from './observability/logger.js';
import { createMetrics } from './observability/metrics.js';
import { createRulePolicy } from './policy/rule-policy.js';
import { createRedis } from './state/redis.js';
import { createStores } from './storage/registry.js';

export interface RunningSluice {
  /** host:port the app listens on. */
  readonly address: string;
  readonly port: number;
  readonly logger: Logger;
  close(): Promise<void>;
}

export interface StartOptions {
  readonly logger?: Logger;
  /** Overrides config.appPort (0 = any free port). */
  readonly port?: number;
}

export async function startSluice(config: SluiceConfig, options: StartOptions = {}): Promise<RunningSluice> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const stores = await createStores(config);
  const authenticator = await createJwtAuthenticator(config.auth);
  const redis = config.redisUrl === undefined ? null : createRedis(config.redisUrl);
  redis?.on('error', (error: Error) => logger.warn({ err: { message: error.message } }, 'redis error'));
  const metrics = createMetrics();
  const policy = createRulePolicy(config.rules);
  const extraRoutes: Router[] = [];
  const app = createApp({ prefix: config.prefix, stores, authenticator, policy, logger, metrics, extraRoutes });
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(options.port ?? config.appPort, config.host, () => resolve(s));
    s.once('error', reject);
  });
  server.keepAliveTimeout = 65_000; // longer than nginx's upstream keepalive_timeout (60 s)
  const port = (server.address() as AddressInfo).port;
  const address = `${config.host}:${port}`;
  logger.info({ address, stores: [...stores.keys()] }, 'sluice app listening');
  return {
    address,
    port,
    logger,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      redis?.disconnect();
    },
  };
}
