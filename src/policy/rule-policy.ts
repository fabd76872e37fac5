// The rule policy: deny by default; the first rule that applies decides, allow or deny.
// Rules are compiled once at start-up, so a bad pattern stops the process instead of a request.
import type { Action, RuleConfig } from '../config/schema.js';
import type { Subject } from '../auth/types.js';
import { compileCondition, type ConditionCheck } from './conditions.js';
import { compileKeyPattern, type KeyPattern } from './key-pattern.js';
import type { AccessRequest, Decision, Policy } from './types.js';

export interface CompiledRule {
  /** rule.id, or "#<index>" (0-based, as in the config path rules[<index>]). */
  readonly id: string;
  readonly effect: 'allow' | 'deny';
  readonly store: string;
  readonly actions: ReadonlySet<Action>;
  readonly pattern: KeyPattern;
  readonly conditions: readonly ConditionCheck[];
  /** The decision this rule gives when it applies (built once). */
  readonly decision: Decision;
}

const NO_RULE: Decision = Object.freeze({ effect: 'deny', ruleId: null, reason: 'no rule matched' });

export function compileRule(rule: RuleConfig, index: number): CompiledRule {
  const id = rule.id ?? `#${index}`;
  const label = rule.id === undefined ? `rules[${index}]` : `rules[${index}] (${JSON.stringify(rule.id)})`;
  const pattern = compileKeyPattern(rule.key, label);
  const scope = { paramNames: pattern.paramNames, ruleLabel: label };
  const named = rule.id === undefined ? `rule ${id}` : `rule ${JSON.stringify(rule.id)}`;
  return {
    id,
    effect: rule.effect,
    store: rule.store,
    actions: new Set(rule.actions),
    pattern,
    conditions: rule.when.map((condition) => compileCondition(condition, scope)),
    decision: Object.freeze({
      effect: rule.effect,
      ruleId: id,
      reason: `${named} ${rule.effect === 'allow' ? 'allowed' : 'denied'}`,
    }),
  };
}

/** Whether the rule applies to this request; the cheap checks run before the pattern. */
export function ruleApplies(rule: CompiledRule, request: AccessRequest, subject: Subject): boolean {
  if (rule.store !== '*' && rule.store !== request.store) return false;
  if (!rule.actions.has(request.action)) return false;
  const params = rule.pattern.match(request.key.value);
  if (params === null) return false;
  return rule.conditions.every((check) => check({ subject, params }));
}

export function createRulePolicy(rules: readonly RuleConfig[]): Policy {
  const compiled = rules.map(compileRule);
  return {
    async decide(request: AccessRequest, subject: Subject): Promise<Decision> {
      return compiled.find((rule) => ruleApplies(rule, request, subject))?.decision ?? NO_RULE;
    },
  };
}
