// Roles (configurable claim paths), time windows, rule-schema checks and per-rule bandwidth.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ANONYMOUS, type Subject } from '../../src/auth/types.js';
import { ConfigError } from '../../src/config/errors.js';
import { validateConfig } from '../../src/config/load.js';
import type { RuleConfig } from '../../src/config/schema.js';
import { createRulePolicy, type RulePolicyOptions } from '../../src/policy/rule-policy.js';
import type { Decision } from '../../src/policy/types.js';

function rule(partial: Partial<RuleConfig>): RuleConfig {
  return { store: '*', key: '*rest', actions: ['read'], effect: 'allow', when: [], ...partial };
}

function user(sub: string, claims: Record<string, unknown> = {}): Subject {
  return { authenticated: true, id: sub, claims: { sub, ...claims } };
}

async function effectOf(rules: RuleConfig[], subject: Subject, options: RulePolicyOptions = {}, keyValue = 'docs/a.pdf'): Promise<Decision['effect']> {
  const decision = await createRulePolicy(rules, options).decide(
    { store: 'docs', key: { segments: keyValue.split('/'), value: keyValue }, action: 'read' },
    subject,
  );
  return decision.effect;
}

function configProblem(input: Record<string, unknown>): string {
  try {
    validateConfig({ stores: { docs: { type: 'fs', root: 'data' } }, ...input });
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.message;
  }
  return assert.fail('expected a ConfigError');
}

describe('role conditions', () => {
  const editors = [rule({ when: [{ role: 'editor' }] })];

  it('reads roles from the "roles" claim by default (array or space-separated string)', async () => {
    assert.equal(await effectOf(editors, user('a', { roles: ['viewer', 'editor'] })), 'allow');
    assert.equal(await effectOf(editors, user('b', { roles: 'viewer editor' })), 'allow');
    assert.equal(await effectOf(editors, user('c', { roles: ['viewer'] })), 'deny');
    assert.equal(await effectOf(editors, user('d', { roles: 'editors' })), 'deny');
    assert.equal(await effectOf(editors, user('e', { groups: ['editor'] })), 'deny');
  });

  it('reads roles from the configured claim paths (Keycloak style), any of them', async () => {
    const options = { rolesClaims: ['realm_access.roles', 'resource_access.sluice.roles'] };
    assert.equal(await effectOf(editors, user('a', { realm_access: { roles: ['editor'] } }), options), 'allow');
    assert.equal(await effectOf(editors, user('b', { resource_access: { sluice: { roles: ['editor'] } } }), options), 'allow');
    assert.equal(await effectOf(editors, user('c', { roles: ['editor'] }), options), 'deny');
  });

  it('anyRole holds with one of the listed roles; never for anonymous callers', async () => {
    const rules = [rule({ when: [{ anyRole: ['admin', 'auditor'] }] })];
    assert.equal(await effectOf(rules, user('a', { roles: ['auditor'] })), 'allow');
    assert.equal(await effectOf(rules, user('b', { roles: ['editor'] })), 'deny');
    assert.equal(await effectOf(rules, { authenticated: false, id: null, claims: { roles: ['admin'] } }), 'deny');
  });

  it('policy.rolesClaim accepts one path or a list, validated', () => {
    const one = validateConfig({ stores: { docs: { type: 'fs', root: 'data' } }, policy: { rolesClaim: 'realm_access.roles' } });
    assert.deepEqual(one.policy.rolesClaim, ['realm_access.roles']);
    const defaults = validateConfig({ stores: { docs: { type: 'fs', root: 'data' } } });
    assert.deepEqual(defaults.policy.rolesClaim, ['roles']);
    assert.match(configProblem({ policy: { rolesClaim: [] } }), /policy\.rolesClaim/);
  });
});

describe('time conditions', () => {
  const at = (iso: string) => ({ now: () => Date.parse(iso) });
  const alice = user('alice');

  it('after (inclusive) and before (exclusive) bound an absolute window', async () => {
    const rules = [rule({ when: [{ time: { after: '2024-01-01T00:00:00Z', before: '2024-02-01T00:00:00Z' } }] })];
    assert.equal(await effectOf(rules, alice, at('2023-12-31T23:59:59Z')), 'deny');
    assert.equal(await effectOf(rules, alice, at('2024-01-01T00:00:00Z')), 'allow');
    assert.equal(await effectOf(rules, alice, at('2024-01-31T23:59:59Z')), 'allow');
    assert.equal(await effectOf(rules, alice, at('2024-02-01T00:00:00Z')), 'deny');
  });

  it('honours offsets in the timestamps', async () => {
    const rules = [rule({ when: [{ time: { after: '2024-01-01T09:00:00+02:00' } }] })];
    assert.equal(await effectOf(rules, alice, at('2024-01-01T06:59:00Z')), 'deny');
    assert.equal(await effectOf(rules, alice, at('2024-01-01T07:00:00Z')), 'allow');
  });

  it('an embargo holds for anonymous callers too (time is not about the subject)', async () => {
    const rules = [rule({ when: [{ public: true }, { time: { after: '2024-06-01T00:00:00Z' } }] })];
    assert.equal(await effectOf(rules, ANONYMOUS, at('2024-05-31T12:00:00Z')), 'deny');
    assert.equal(await effectOf(rules, ANONYMOUS, at('2024-06-01T12:00:00Z')), 'allow');
  });

  it('weekdays and office hours, in UTC by default', async () => {
    const rules = [rule({ when: [{ time: { weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'], hours: { from: 9, to: 17 } } }] })];
    assert.equal(await effectOf(rules, alice, at('2024-05-06T10:30:00Z')), 'allow'); // Monday
    assert.equal(await effectOf(rules, alice, at('2024-05-06T17:00:00Z')), 'deny'); // "to" is exclusive
    assert.equal(await effectOf(rules, alice, at('2024-05-06T08:59:59Z')), 'deny');
    assert.equal(await effectOf(rules, alice, at('2024-05-05T10:30:00Z')), 'deny'); // Sunday
  });

  it('reads weekday and hour in the configured time zone', async () => {
    const rules = [rule({ when: [{ time: { weekdays: ['mon'], hours: { from: 0, to: 3 }, timeZone: 'Europe/Berlin' } }] })];
    // Sunday 23:30 UTC is Monday 01:30 in Berlin (CEST, UTC+2).
    assert.equal(await effectOf(rules, alice, at('2024-05-05T23:30:00Z')), 'allow');
    assert.equal(await effectOf(rules, alice, at('2024-05-06T01:30:00Z')), 'deny'); // 03:30 Berlin
  });

  it('an hour window with from > to wraps midnight', async () => {
    const rules = [rule({ when: [{ time: { hours: { from: 22, to: 6 } } }] })];
    assert.equal(await effectOf(rules, alice, at('2024-05-06T23:00:00Z')), 'allow');
    assert.equal(await effectOf(rules, alice, at('2024-05-06T05:59:00Z')), 'allow');
    assert.equal(await effectOf(rules, alice, at('2024-05-06T06:00:00Z')), 'deny');
    assert.equal(await effectOf(rules, alice, at('2024-05-06T12:00:00Z')), 'deny');
  });

  it('rejects unusable windows at start-up, naming the rule and field', () => {
    const timeRule = (time: unknown) => ({ rules: [{ key: '*rest', when: [{ time }] }] });
    assert.match(configProblem(timeRule({})), /rules\.0\.when\.0\.time.*at least one of/);
    assert.match(configProblem(timeRule({ after: '2024-02-01T00:00:00Z', before: '2024-01-01T00:00:00Z' })), /rules\.0\.when\.0\.time\.before/);
    assert.match(configProblem(timeRule({ after: 'next tuesday' })), /rules\.0\.when\.0\.time\.after/);
    assert.match(configProblem(timeRule({ after: '2024-01-01T00:00:00' })), /rules\.0\.when\.0\.time\.after/); // no offset: ambiguous
    assert.match(configProblem(timeRule({ hours: { from: 9, to: 9 } })), /time\.hours/);
    assert.match(configProblem(timeRule({ weekdays: ['monday'] })), /time\.weekdays\.0/);
    assert.match(configProblem(timeRule({ hours: { from: 9, to: 17 }, timeZone: 'Mars/Olympus' })), /time\.timeZone.*time zone/);
  });
});

describe('rule schema', () => {
  it('names the offending rule field for delegate/allow/deny mistakes', () => {
    assert.match(
      configProblem({ rules: [{ key: 'a/*r' }, { effect: 'delegate', key: 'b/*r' }] }),
      /rules\.1\.to \(SLUICE_RULES__1__TO\).*delegate rule needs "to"/,
    );
    assert.match(configProblem({ rules: [{ key: 'a/*r', to: 'webhook' }] }), /rules\.0\.to.*only for effect: delegate/);
    assert.match(configProblem({ rules: [{ effect: 'deny' }] }), /rules\.0\.key.*required/);
    assert.match(configProblem({ rules: [{ key: 'a/*r', effect: 'deny', limitRate: '1m' }] }), /rules\.0\.limitRate/);
    assert.match(configProblem({ rules: [{ key: 'a/*r', effect: 'maybe' }] }), /rules\.0\.effect/);
    assert.match(configProblem({ rules: [{ key: 'a/*r', when: [{ role: '' }] }] }), /rules\.0\.when\.0/);
  });

  it('a delegate rule may omit its key (every key)', () => {
    const config = validateConfig({ stores: { docs: { type: 'fs', root: 'data' } }, rules: [{ effect: 'delegate', to: 'webhook' }] });
    assert.equal(config.rules[0]?.key, undefined);
  });

  it('parses limitRate like nginx sizes (k = 1024) into bytes per second', () => {
    const rates = validateConfig({
      stores: { docs: { type: 'fs', root: 'data' } },
      rules: ['512k', '2m', '1G', 65536, '100'].map((limitRate) => ({ key: '*r', limitRate })),
    }).rules.map((r) => r.limitRate);
    assert.deepEqual(rates, [524288, 2097152, 1073741824, 65536, 100]);
    for (const bad of ['0', '-1k', '1.5m', '10 k', 'fast', 0, 1.5]) {
      assert.match(configProblem({ rules: [{ key: '*r', limitRate: bad }] }), /rules\.0\.limitRate/, String(bad));
    }
  });

  it('carries limitRate on allow decisions only', async () => {
    const policy = createRulePolicy([
      rule({ id: 'no-secrets', key: 'slow/secret/*r', effect: 'deny' }),
      rule({ id: 'slow', key: 'slow/*r', limitRate: 262144 }),
      rule({ id: 'fast', key: '*r' }),
    ]);
    const decide = (value: string) => policy.decide({ store: 'docs', key: { segments: value.split('/'), value }, action: 'read' }, user('a'));
    assert.equal((await decide('slow/big.bin')).limitRate, 262144);
    assert.equal((await decide('fast.bin')).limitRate, undefined);
    const denied = await decide('slow/secret/x');
    assert.equal(denied.effect, 'deny');
    assert.equal(denied.limitRate, undefined);
  });
});
