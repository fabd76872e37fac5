// The `when` conditions of a rule. One compiler per condition kind, so a new kind is one
// entry in the table (and one branch in the config schema).
import type { Subject } from '../auth/types.js';
import type { ConditionConfig } from '../config/schema.js';
import { ConfigError } from '../config/errors.js';
import type { KeyParams } from './key-pattern.js';

export interface ConditionContext {
  readonly subject: Subject;
  readonly params: KeyParams;
}

export type ConditionCheck = (context: ConditionContext) => boolean;

type ConditionKind = 'public' | 'authenticated' | 'equals' | 'contains' | 'equalsParam';
type ConditionOf<K extends ConditionKind> = Extract<ConditionConfig, Record<K, unknown>>;

/** What a condition may refer to besides claims: the params of its rule's key pattern. */
export interface ConditionScope {
  readonly paramNames: readonly string[];
  /** Names the rule in start-up errors. */
  readonly ruleLabel: string;
}

const COMPILERS: { readonly [K in ConditionKind]: (condition: ConditionOf<K>, scope: ConditionScope) => ConditionCheck } = {
  // Holds for everyone, anonymous included: the only condition an anonymous caller can meet.
  public: () => () => true,
  authenticated: () => ({ subject }) => subject.authenticated,
  equals: ({ claim, equals }) => claimCheck(claim, (value) => value === equals),
  contains: ({ claim, contains }) => claimCheck(claim, (value) => containsValue(value, contains)),
  equalsParam: ({ claim, equalsParam }, scope) => {
    // A typo here would make the rule silently never apply (for a deny rule: silently allow).
    if (!scope.paramNames.includes(equalsParam)) {
      throw new ConfigError([
        `${scope.ruleLabel}: condition equalsParam refers to "${equalsParam}", which the key pattern does not define`,
      ]);
    }
    return (context) => {
      if (!context.subject.authenticated || !Object.hasOwn(context.params, equalsParam)) return false;
      const value = lookupClaim(context.subject.claims, claim);
      // Exact comparison, no normalization: "Alice" is not "alice".
      return typeof value === 'string' && value === context.params[equalsParam];
    };
  },
};

export function compileCondition(condition: ConditionConfig, scope: ConditionScope): ConditionCheck {
  if ('public' in condition) return COMPILERS.public(condition, scope);
  if ('authenticated' in condition) return COMPILERS.authenticated(condition, scope);
  if ('equals' in condition) return COMPILERS.equals(condition, scope);
  if ('contains' in condition) return COMPILERS.contains(condition, scope);
  return COMPILERS.equalsParam(condition, scope);
}

/** Claim conditions never hold for anonymous subjects, whatever their (empty) claims say. */
function claimCheck(claim: string, test: (value: unknown) => boolean): ConditionCheck {
  return ({ subject }) => subject.authenticated && test(lookupClaim(subject.claims, claim));
}

/** An array member, the string itself, or one word of a space-separated scope string. */
function containsValue(value: unknown, wanted: string | number): boolean {
  if (Array.isArray(value)) return value.includes(wanted);
  if (typeof value !== 'string' || typeof wanted !== 'string') return false;
  return value === wanted || value.split(' ').includes(wanted);
}

/**
 * A claim by name, or by dot path into nested objects (`realm_access.roles`). An exact
 * top-level name wins, because namespaced claims (`https://example.com/roles`) contain dots.
 * Only own properties are read, so `constructor` or `__proto__` never reach the prototype.
 */
export function lookupClaim(claims: Readonly<Record<string, unknown>>, path: string): unknown {
  if (Object.hasOwn(claims, path)) return claims[path];
  let node: unknown = claims;
  for (const part of path.split('.')) {
    if (typeof node !== 'object' || node === null || Array.isArray(node) || !Object.hasOwn(node, part)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}
