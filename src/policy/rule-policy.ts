// The rule policy: one ordered list, deny by default.
//   - The first rule that applies decides: `allow` or `deny` (so an explicit deny placed first wins).
//   - A `delegate` rule that applies asks its authority (a plugin or the webhook): allow/deny
//     decide; abstain falls through to the next rule. An authority that cannot answer fails
//     closed (503), it never falls through.
//   - When no rule decides, access is denied.
// Rules are compiled once at start-up, so a bad pattern stops the process instead of a request.
import type { Action, RuleConfig } from '../config/schema.js';
import type { Subject } from '../auth/types.js';
import { ConfigError } from '../config/errors.js';
import type { Authority, Verdict } from './authority.js';
import { compileCondition, type ConditionCheck } from './conditions.js';
import { compileKeyPattern, type KeyPattern } from './key-pattern.js';
import type { AccessRequest, Decision, Policy } from './types.js';

export interface CompiledRule {
  /** rule.id, or "#<index>" (0-based, as in the config path rules[<index>]). */
  readonly id: string;
  readonly effect: 'allow' | 'deny' | 'delegate';
  readonly store: string;
  readonly actions: ReadonlySet<Action>;
  /** null: a delegate rule without `key` (every key). */
  readonly pattern: KeyPattern | null;
  readonly conditions: readonly ConditionCheck[];
  /** Whom a delegate rule asks; null for allow/deny rules. */
  readonly authority: Authority | null;
  readonly limitRate: number | undefined;
  /** The decision an allow/deny rule gives when it applies (built once). */
  readonly decision: Decision;
}

export interface RulePolicyOptions {
  /** Claim paths holding roles (policy.rolesClaim); default ["roles"]. */
  readonly rolesClaims?: readonly string[];
  /** What delegate rules may name in `to`, by name ("webhook", plugin names). */
  readonly authorities?: ReadonlyMap<string, Authority>;
  /** Clock for time conditions (ms since the epoch). */
  readonly now?: () => number;
}

const NO_RULE: Decision = Object.freeze({ effect: 'deny', ruleId: null, reason: 'no rule matched', source: 'default' });
const EVERY_KEY = Object.freeze(Object.create(null) as Record<string, string>);

export function compileRule(rule: RuleConfig, index: number, options: RulePolicyOptions = {}): CompiledRule {
  const id = rule.id ?? `#${index}`;
  const label = rule.id === undefined ? `rules[${index}]` : `rules[${index}] (${JSON.stringify(rule.id)})`;
  const pattern = rule.key === undefined ? null : compileKeyPattern(rule.key, label);
  const scope = { paramNames: pattern?.paramNames ?? [], rolesClaims: options.rolesClaims ?? ['roles'], ruleLabel: label };
  const named = rule.id === undefined ? `rule ${id}` : `rule ${JSON.stringify(rule.id)}`;
  const limitRate = rule.effect === 'deny' ? undefined : rule.limitRate;
  return {
    id,
    effect: rule.effect,
    store: rule.store,
    actions: new Set(rule.actions),
    pattern,
    conditions: rule.when.map((condition) => compileCondition(condition, scope)),
    authority: rule.effect === 'delegate' ? authorityFor(rule, index, label, options.authorities) : null,
    limitRate,
    decision: Object.freeze({
      effect: rule.effect === 'deny' ? 'deny' : 'allow',
      ruleId: id,
      reason: `${named} ${rule.effect === 'deny' ? 'denied' : 'allowed'}`,
      source: 'rule',
      ...(limitRate !== undefined ? { limitRate } : {}),
    }),
  };
}

function authorityFor(rule: RuleConfig, index: number, label: string, authorities: ReadonlyMap<string, Authority> = new Map()): Authority {
  const authority = authorities.get(rule.to as string);
  if (authority !== undefined) return authority;
  const known = [...authorities.keys()].map((name) => JSON.stringify(name)).join(', ') || 'none configured';
  const hint = rule.to === 'webhook' ? ' (set policy.webhook.url)' : '';
  throw ConfigError.forKey(
    `rules.${index}.to`,
    `${label} delegates to ${JSON.stringify(rule.to)}, which is not a loaded plugin or the webhook${hint}; known: ${known}`,
  );
}

/** Whether the rule applies to this request; the cheap checks run before the pattern. */
export function ruleApplies(rule: CompiledRule, request: AccessRequest, subject: Subject, now: number = Date.now()): boolean {
  if (rule.store !== '*' && rule.store !== request.store) return false;
  if (!rule.actions.has(request.action)) return false;
  const params = rule.pattern === null ? EVERY_KEY : rule.pattern.match(request.key.value);
  if (params === null) return false;
  return rule.conditions.every((check) => check({ subject, params, now }));
}

export function createRulePolicy(rules: readonly RuleConfig[], options: RulePolicyOptions = {}): Policy {
  const compiled = rules.map((rule, index) => compileRule(rule, index, options));
  const clock = options.now ?? Date.now;
  return {
    async decide(request: AccessRequest, subject: Subject): Promise<Decision> {
      const now = clock();
      for (const rule of compiled) {
        if (!ruleApplies(rule, request, subject, now)) continue;
        if (rule.authority === null) return rule.decision;
        const verdict = await rule.authority.ask(request, subject);
        if (verdict.effect !== 'abstain') return delegatedDecision(rule, rule.authority, verdict);
      }
      return NO_RULE;
    },
  };
}

function delegatedDecision(rule: CompiledRule, authority: Authority, verdict: Verdict): Decision {
  const allowed = verdict.effect === 'allow';
  const who = authority.source === 'plugin' ? `plugin ${JSON.stringify(authority.name)}` : 'webhook';
  const why = verdict.reason === undefined ? '' : `: ${verdict.reason}`;
  return {
    effect: allowed ? 'allow' : 'deny',
    ruleId: rule.id,
    reason: `${who} ${allowed ? 'allowed' : 'denied'}${why} (rule ${JSON.stringify(rule.id)})`,
    source: authority.source,
    ...(authority.source === 'plugin' ? { plugin: authority.name } : {}),
    cacheHit: verdict.cacheHit,
    ttlSeconds: verdict.ttlSeconds,
    ...(allowed && rule.limitRate !== undefined ? { limitRate: rule.limitRate } : {}),
  };
}
