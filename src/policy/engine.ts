// Builds the policy from config: loads plugins, sets up the webhook and the decision cache
// (in the shared state: Redis when configured, else in-memory), and compiles the rules that
// delegate to them.
import type { PolicyConfig, RuleConfig } from '../config/policy-schema.js';
import type { Logger } from '../observability/logger.js';
import { memoryState, type SharedState } from '../state/shared-state.js';
import type { Authority } from './authority.js';
import { StateDecisionCache, type DecisionCache } from './decision-cache.js';
import { pluginAuthority } from './plugin-authority.js';
import { loadPlugins } from './plugin-loader.js';
import { createRulePolicy } from './rule-policy.js';
import type { Policy } from './types.js';
import { webhookAuthority } from './webhook.js';

export interface PolicyEngineConfig {
  readonly rules: readonly RuleConfig[];
  readonly policy: PolicyConfig;
}

export interface PolicyEngineDeps {
  readonly logger: Logger;
  /** The process's state (the decision cache is shared when it is); default in-memory. */
  readonly state?: SharedState;
  /** Relative plugin paths resolve against this directory (default: the working directory). */
  readonly baseDir?: string;
  /** Clock (ms since the epoch) for time conditions and the in-memory cache. */
  readonly now?: () => number;
}

export async function createPolicyEngine(config: PolicyEngineConfig, deps: PolicyEngineDeps): Promise<Policy> {
  const { policy } = config;
  const state = deps.state ?? memoryState(deps.now);
  const cache: DecisionCache = new StateDecisionCache(state.space(policy.cache.redisPrefix, { maxEntries: policy.cache.maxEntries }), deps.logger);
  const shared = { cache, ttl: { defaultSeconds: policy.cache.defaultTtlSeconds, maxSeconds: policy.cache.maxTtlSeconds }, logger: deps.logger };
  const authorities = new Map<string, Authority>();
  if (policy.webhook !== undefined) authorities.set('webhook', webhookAuthority(policy.webhook, shared));
  for (const loaded of await loadPlugins(policy.plugins, deps.baseDir ?? process.cwd())) {
    authorities.set(loaded.plugin.name, pluginAuthority(loaded, shared));
  }
  const compiled = createRulePolicy(config.rules, { rolesClaims: policy.rolesClaim, authorities, ...(deps.now ? { now: deps.now } : {}) });
  const delegatedTo = new Set(config.rules.flatMap((rule) => (rule.effect === 'delegate' && rule.to !== undefined ? [rule.to] : [])));
  for (const name of authorities.keys()) {
    if (!delegatedTo.has(name)) deps.logger.warn({ authority: name }, 'no rule delegates to this authority: it is never asked');
  }
  return compiled;
}
