// Composition of the access features around the core authenticator and policy: share links,
// revocation, rate limits and the auth_request endpoint. server.ts calls this once.
import type Router from '@koa/router';
import type { Middleware } from 'koa';
import type { Authenticator } from '../auth/types.js';
import { ConfigError } from '../config/errors.js';
import type { SluiceConfig } from '../config/schema.js';
import { rateLimit } from './middleware/rate-limit.js';
import { authRequestRoutes } from './routes/auth-request.js';
import { decideRoutes } from './routes/decide.js';
import { decisionCacheStores } from '../config/decision-cache.js';
import { shareRoutes } from './routes/share.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Policy } from '../policy/types.js';
import { createRateLimiter } from '../ratelimit/create.js';
import type { SharedState } from '../state/shared-state.js';
import type { Store } from '../storage/types.js';
import { adminCheck } from '../sharing/admin.js';
import { createSharingAuthenticator } from '../sharing/authenticator.js';
import { countShareLinkUse } from './middleware/count-share-link-use.js';
import { withShareLinks } from '../sharing/link-policy.js';
import { createLinkKeyRing } from '../sharing/link-token.js';
import { createSharingState } from '../sharing/kv-state.js';

export interface AccessControlDeps {
  /** Where link records, revocations, counts and rate-limit buckets live (Redis or memory). */
  readonly state: SharedState;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly stores: ReadonlyMap<string, Store>;
  /** Bearer tokens (JWT). */
  readonly authenticator: Authenticator;
  /** The configured rules (and whatever else decides). */
  readonly policy: Policy;
}

export interface AccessControl {
  /** Bearer tokens with jti revocation, plus `?share=` links. */
  readonly authenticator: Authenticator;
  /** The policy, deciding share-link requests by the link's scope. */
  readonly policy: Policy;
  /** For the download route, after authenticate (absent when no limit is configured). */
  readonly rateLimit?: Middleware | undefined;
  /** For the download route, after authorize: counts uses of counted links. */
  readonly shareLinkUse: Middleware;
  /** Share API and auth_request endpoint (each only when configured). */
  readonly routes: readonly Router[];
}

export async function createAccessControl(config: SluiceConfig, deps: AccessControlDeps): Promise<AccessControl> {
  const { sharing } = config;
  assertDistinctSecrets(config);
  const locations = protectedLocations(config, deps.stores);
  const state = createSharingState(deps.state);
  const ring = sharing.keys.length === 0 ? null : createLinkKeyRing(sharing.keys);
  const authenticator = createSharingAuthenticator({ tokens: deps.authenticator, links: ring, state });
  const policy = withShareLinks(deps.policy);
  const limit = sharing.rateLimit === undefined ? undefined : rateLimit(createRateLimiter(sharing.rateLimit, deps.state), deps.logger);
  const shareLinkUse = countShareLinkUse(state);
  const common = { stores: deps.stores, authenticator, policy, logger: deps.logger, metrics: deps.metrics, rateLimit: limit };
  const routes: Router[] = [];
  if (ring !== null) {
    routes.push(
      shareRoutes({
        ...common,
        prefix: config.prefix,
        ring,
        state,
        maxExpiresInSeconds: sharing.maxExpiresInSeconds,
        tokenRevocationSeconds: sharing.tokenRevocationSeconds,
        isAdmin: adminCheck(sharing.admin),
      }),
    );
  }
  if (locations.size > 0) {
    routes.push(authRequestRoutes({ ...common, internalPrefix: config.nginx.internalPrefix, locations, shareLinkUse }));
  }
  // The decision nginx caches for stores with decisionCache on (docs/nginx.md "Decision cache").
  if (decisionCacheStores(config).length > 0) routes.push(decideRoutes({ ...common, config, shareLinkUse }));
  return { authenticator, policy, rateLimit: limit, shareLinkUse, routes };
}

/** A link signed with a token key would verify as a bearer token (with the link's claims). */
function assertDistinctSecrets(config: SluiceConfig): void {
  const tokenSecrets = new Set(config.auth.keys.flatMap((key) => (key.secret === undefined ? [] : [key.secret])));
  for (const [index, key] of config.sharing.keys.entries()) {
    if (tokenSecrets.has(key.secret)) throw ConfigError.forKey(`sharing.keys.${index}.secret`, 'must differ from every auth.keys secret');
  }
}

function protectedLocations(config: SluiceConfig, stores: ReadonlyMap<string, Store>): Map<string, Store> {
  const result = new Map<string, Store>();
  for (const [path, storeName] of Object.entries(config.sharing.authRequest.locations)) {
    const key = `sharing.authRequest.locations.${path}`;
    const store = stores.get(storeName);
    if (store === undefined) throw ConfigError.forKey(key, `unknown store "${storeName}"`);
    for (const taken of [config.prefix, config.nginx.internalPrefix]) {
      if (path === taken || path.startsWith(`${taken}/`) || taken.startsWith(`${path}/`)) {
        throw ConfigError.forKey(key, `overlaps ${taken}, which nginx already routes to Sluice`);
      }
    }
    result.set(path, store);
  }
  return result;
}
