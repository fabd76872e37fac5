// The `when` conditions of a rule. One compiler per condition kind, so a new kind is one
// entry in the table (and one entry in CONDITION_KINDS of the config schema).
import type { Subject } from '../auth/types.js';
import type { ConditionConfig } from '../config/schema.js';
import { ConfigError } from '../config/errors.js';
import type { KeyParams } from './key-pattern.js';
import { compileTimeWindow } from './time-window.js';

export interface ConditionContext {
  readonly subject: Subject;
  readonly params: KeyParams;
  /** Decision time (ms since the epoch), read once per decision. */
  readonly now: number;
}

export type ConditionCheck = (context: ConditionContext) => boolean;

type ConditionKind = 'public' | 'authenticated' | 'equals' | 'contains' | 'equalsParam' | 'role' | 'anyRole' | 'time';
type ConditionOf<K extends ConditionKind> = Extract<ConditionConfig, Record<K, unknown>>;

/** What a condition may refer to besides claims: its rule's key-pattern params, the roles claims. */
export interface ConditionScope {
  readonly paramNames: readonly string[];
  /** Claim paths holding roles/groups (policy.rolesClaim). */
  readonly rolesClaims: readonly string[];
  /** Names the rule in start-up errors. */
  readonly ruleLabel: string;
}

const COMPILERS: { readonly [K in ConditionKind]: (condition: ConditionOf<K>, scope: ConditionScope) => ConditionCheck } = {
  // Holds for everyone, anonymous included: the only condition an anonymous caller can meet.
  public: () => () => true,
  authenticated:
    () =>
    ({ subject }) =>
      subject.authenticated,
  equals: ({ claim, equals }) => claimCheck(claim, (value) => value === equals),
  contains: ({ claim, contains }) => claimCheck(claim, (value) => containsValue(value, contains)),
  equalsParam: ({ claim, equalsParam }, scope) => {
    // A typo here would make the rule silently never apply (for a deny rule: silently allow).
    if (!scope.paramNames.includes(equalsParam)) {
      throw new ConfigError([`${scope.ruleLabel}: condition equalsParam refers to "${equalsParam}", which the key pattern does not define`]);
    }
    return (context) => {
      if (!context.subject.authenticated || !Object.hasOwn(context.params, equalsParam)) return false;
      const value = lookupClaim(context.subject.claims, claim);
      // Exact comparison, no normalization: "Alice" is not "alice".
      return typeof value === 'string' && value === context.params[equalsParam];
    };
  },
  role: ({ role }, scope) => rolesCheck(scope.rolesClaims, [role]),
  anyRole: ({ anyRole }, scope) => rolesCheck(scope.rolesClaims, anyRole),
  // Not about the subject: a time window holds for anonymous callers too (embargoes).
  time: ({ time }) => {
    const holds = compileTimeWindow(time);
    return ({ now }) => holds(now);
  },
};

export function compileCondition(condition: ConditionConfig, scope: ConditionScope): ConditionCheck {
  if ('public' in condition) return COMPILERS.public(condition, scope);
  if ('authenticated' in condition) return COMPILERS.authenticated(condition, scope);
  if ('equals' in condition) return COMPILERS.equals(condition, scope);
  if ('contains' in condition) return COMPILERS.contains(condition, scope);
  if ('role' in condition) return COMPILERS.role(condition, scope);
  if ('anyRole' in condition) return COMPILERS.anyRole(condition, scope);
  if ('time' in condition) return COMPILERS.time(condition, scope);
  return COMPILERS.equalsParam(condition, scope);
}

/** Claim conditions never hold for anonymous subjects, whatever their (empty) claims say. */
function claimCheck(claim: string, test: (value: unknown) => boolean): ConditionCheck {
  return ({ subject }) => subject.authenticated && test(lookupClaim(subject.claims, claim));
}

/** Holds when any roles claim contains any wanted role (same matching as `contains`). */
function rolesCheck(claims: readonly string[], wanted: readonly string[]): ConditionCheck {
  return ({ subject }) =>
    subject.authenticated &&
    claims.some((claim) => {
      const value = lookupClaim(subject.claims, claim);
      return wanted.some((role) => containsValue(value, role));
    });
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
