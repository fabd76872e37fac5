import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ANONYMOUS, type Subject } from '../../src/auth/types.js';
import type { RuleConfig } from '../../src/config/schema.js';
import { validateConfig } from '../../src/config/load.js';
import { lookupClaim } from '../../src/policy/conditions.js';
import { compileKeyPattern } from '../../src/policy/key-pattern.js';
import { createRulePolicy } from '../../src/policy/rule-policy.js';
import type { Decision, Policy } from '../../src/policy/types.js';
import type { CanonicalKey } from '../../src/storage/types.js';

function rule(partial: Partial<RuleConfig> & Pick<RuleConfig, 'key'>): RuleConfig {
  return { store: '*', actions: ['read'], effect: 'allow', when: [], ...partial };
}

function key(value: string): CanonicalKey {
  return { segments: value.split('/'), value };
}

function user(sub: string, claims: Record<string, unknown> = {}): Subject {
  return { authenticated: true, id: sub, claims: { sub, ...claims } };
}

async function decide(policy: Policy, store: string, keyValue: string, subject: Subject): Promise<Decision> {
  return policy.decide({ store, key: key(keyValue), action: 'read' }, subject);
}

async function assertAllowed(policy: Policy, store: string, keyValue: string, subject: Subject): Promise<Decision> {
  const decision = await decide(policy, store, keyValue, subject);
  assert.equal(decision.effect, 'allow', `${subject.id ?? 'anonymous'} → ${store}:${keyValue}: ${decision.reason}`);
  return decision;
}

async function assertDenied(policy: Policy, store: string, keyValue: string, subject: Subject): Promise<Decision> {
  const decision = await decide(policy, store, keyValue, subject);
  assert.equal(decision.effect, 'deny', `${subject.id ?? 'anonymous'} → ${store}:${keyValue}: ${decision.reason}`);
  return decision;
}

const alice = user('alice', { groups: ['staff'], scope: 'files:read files:list', realm_access: { roles: ['auditor'] } });
const bob = user('bob', { groups: 'finance', scope: 'files:list' });

const ownerRule = rule({ id: 'owner-files', key: 'users/:owner/*rest', when: [{ claim: 'sub', equalsParam: 'owner' }] });

describe('rule policy: per-user folders', () => {
  const policy = createRulePolicy([ownerRule]);

  const cases: [keyValue: string, subject: Subject, effect: 'allow' | 'deny'][] = [
    ['users/alice/report.pdf', alice, 'allow'],
    ['users/alice/deep/nested/file.txt', alice, 'allow'],
    ['users/bob/report.pdf', alice, 'deny'],
    ['users/alice/report.pdf', bob, 'deny'],
    ['users/alice/report.pdf', ANONYMOUS, 'deny'],
    ['users/alice', alice, 'deny'], // "*rest" needs at least one more segment
    ['Users/alice/report.pdf', alice, 'deny'], // case-sensitive
    ['users/Alice/report.pdf', alice, 'deny'], // param compared exactly
    ['users/alice%2Fbob/x', user('alice/bob'), 'deny'], // "%2F" is a literal, not a "/"
  ];
  for (const [keyValue, subject, effect] of cases) {
    it(`${effect}s ${subject.id ?? 'anonymous'} on ${keyValue}`, async () => {
      const decision = await decide(policy, 'docs', keyValue, subject);
      assert.equal(decision.effect, effect, decision.reason);
    });
  }

  it('never lets a param cross "/" (":owner" cannot eat "alice/bob")', async () => {
    const mallory = user('alice/bob');
    await assertDenied(policy, 'docs', 'users/alice/bob/file.txt', mallory);
    const single = createRulePolicy([rule({ key: 'users/:owner', when: [{ claim: 'sub', equalsParam: 'owner' }] })]);
    await assertDenied(single, 'docs', 'users/alice/bob', mallory);
    await assertAllowed(single, 'docs', 'users/alice', alice);
  });

  it('names the deciding rule in ruleId and reason', async () => {
    const allowed = await assertAllowed(policy, 'docs', 'users/alice/a.txt', alice);
    assert.deepEqual(allowed, { effect: 'allow', ruleId: 'owner-files', reason: 'rule "owner-files" allowed', source: 'rule' });
    const denied = await assertDenied(policy, 'docs', 'users/bob/a.txt', alice);
    assert.deepEqual(denied, { effect: 'deny', ruleId: null, reason: 'no rule matched', source: 'default' });
  });
});

describe('rule policy: claim conditions', () => {
  it('group claim contains (array or single string)', async () => {
    const policy = createRulePolicy([
      rule({ key: 'staff/*path', when: [{ claim: 'groups', contains: 'staff' }] }),
      rule({ key: 'finance/*path', when: [{ claim: 'groups', contains: 'finance' }] }),
    ]);
    await assertAllowed(policy, 'docs', 'staff/handbook.pdf', alice);
    await assertDenied(policy, 'docs', 'staff/handbook.pdf', bob);
    await assertAllowed(policy, 'docs', 'finance/q1.xlsx', bob);
    await assertDenied(policy, 'docs', 'finance/q1.xlsx', alice);
    await assertDenied(policy, 'docs', 'staff/handbook.pdf', ANONYMOUS);
  });

  it('contains matches one word of a space-separated scope, not a substring', async () => {
    const policy = createRulePolicy([rule({ key: 'files/*path', when: [{ claim: 'scope', contains: 'files:read' }] })]);
    await assertAllowed(policy, 'docs', 'files/a', alice);
    await assertDenied(policy, 'docs', 'files/a', bob);
    await assertDenied(policy, 'docs', 'files/a', user('eve', { scope: 'files:readonly' }));
  });

  it('contains with a number matches array members strictly', async () => {
    const policy = createRulePolicy([rule({ key: 'levels/*path', when: [{ claim: 'levels', contains: 3 }] })]);
    await assertAllowed(policy, 'docs', 'levels/x', user('a', { levels: [1, 3] }));
    await assertDenied(policy, 'docs', 'levels/x', user('b', { levels: ['3'] }));
    await assertDenied(policy, 'docs', 'levels/x', user('c', { levels: '3' }));
  });

  it('equals compares strictly, by dot path into nested claims', async () => {
    const policy = createRulePolicy([
      rule({ key: 'audit/*path', when: [{ claim: 'realm_access.roles', contains: 'auditor' }] }),
      rule({ key: 'tenant/*path', when: [{ claim: 'org.tenant', equals: 'acme' }] }),
      rule({ key: 'flags/*path', when: [{ claim: 'beta', equals: true }] }),
    ]);
    await assertAllowed(policy, 'docs', 'audit/log.txt', alice);
    await assertDenied(policy, 'docs', 'audit/log.txt', bob);
    await assertAllowed(policy, 'docs', 'tenant/a', user('t', { org: { tenant: 'acme' } }));
    await assertDenied(policy, 'docs', 'tenant/a', user('t', { org: { tenant: 'ACME' } }));
    await assertAllowed(policy, 'docs', 'flags/a', user('f', { beta: true }));
    await assertDenied(policy, 'docs', 'flags/a', user('f', { beta: 'true' }));
  });

  it('claim lookup prefers an exact (namespaced) name and never reads the prototype', () => {
    const claims = { 'https://example.com/roles': ['admin'], a: { b: 1 }, 'a.b': 2 };
    assert.deepEqual(lookupClaim(claims, 'https://example.com/roles'), ['admin']);
    assert.equal(lookupClaim(claims, 'a.b'), 2);
    assert.equal(lookupClaim({ a: { b: 1 } }, 'a.b'), 1);
    assert.equal(lookupClaim({}, 'constructor'), undefined);
    assert.equal(lookupClaim({ a: {} }, 'a.toString'), undefined);
    assert.equal(lookupClaim({ a: ['x'] }, 'a.0'), undefined);
  });

  it('anonymous subjects satisfy only "public"', async () => {
    const anonymousWithClaims: Subject = { authenticated: false, id: null, claims: { sub: 'alice', groups: ['staff'] } };
    const policy = createRulePolicy([
      rule({ key: 'a/*p', when: [{ authenticated: true }] }),
      rule({ key: 'b/*p', when: [{ claim: 'groups', contains: 'staff' }] }),
      rule({ key: 'c/:owner/*p', when: [{ claim: 'sub', equalsParam: 'owner' }] }),
      rule({ key: 'd/*p', when: [{ claim: 'sub', equals: 'alice' }] }),
      rule({ key: 'e/*p', when: [{ public: true }] }),
    ]);
    for (const keyValue of ['a/x', 'b/x', 'c/alice/x', 'd/x']) {
      await assertDenied(policy, 'docs', keyValue, anonymousWithClaims);
      await assertAllowed(policy, 'docs', keyValue, alice);
    }
    await assertAllowed(policy, 'docs', 'e/x', anonymousWithClaims);
  });
});

describe('rule policy: ordering, scoping and defaults', () => {
  it('a public rule allows anonymous callers', async () => {
    const policy = createRulePolicy([rule({ id: 'public', key: 'public/*path', when: [{ public: true }] })]);
    const decision = await assertAllowed(policy, 'docs', 'public/logo.png', ANONYMOUS);
    assert.equal(decision.reason, 'rule "public" allowed');
    await assertAllowed(policy, 'docs', 'public/logo.png', alice);
    await assertDenied(policy, 'docs', 'private/logo.png', ANONYMOUS);
  });

  it('an empty "when" applies to everyone', async () => {
    const policy = createRulePolicy([rule({ key: 'open/*path' })]);
    await assertAllowed(policy, 'docs', 'open/x', ANONYMOUS);
  });

  it('the first applying rule decides: a deny placed first wins', async () => {
    const policy = createRulePolicy([rule({ key: 'users/:owner/secret/*rest', effect: 'deny' }), ownerRule]);
    const denied = await assertDenied(policy, 'docs', 'users/alice/secret/x', alice);
    assert.deepEqual(denied, { effect: 'deny', ruleId: '#0', reason: 'rule #0 denied', source: 'rule' });
    await assertAllowed(policy, 'docs', 'users/alice/public/x', alice);
  });

  it('a deny placed after a matching allow does not apply', async () => {
    const policy = createRulePolicy([ownerRule, rule({ key: 'users/:owner/secret/*rest', effect: 'deny' })]);
    await assertAllowed(policy, 'docs', 'users/alice/secret/x', alice);
  });

  it('a deny rule whose conditions do not hold is skipped', async () => {
    const policy = createRulePolicy([
      rule({ id: 'no-contractors', key: '*path', effect: 'deny', when: [{ claim: 'groups', contains: 'contractors' }] }),
      rule({ key: 'shared/*path', when: [{ authenticated: true }] }),
    ]);
    await assertAllowed(policy, 'docs', 'shared/x', alice);
    const denied = await assertDenied(policy, 'docs', 'shared/x', user('carl', { groups: ['contractors'] }));
    assert.equal(denied.reason, 'rule "no-contractors" denied');
  });

  it('scopes rules to their store; "*" matches every store', async () => {
    const policy = createRulePolicy([
      rule({ id: 'media-public', store: 'media', key: 'public/*path', when: [{ public: true }] }),
      rule({ id: 'any-staff', store: '*', key: 'staff/*path', when: [{ claim: 'groups', contains: 'staff' }] }),
    ]);
    await assertAllowed(policy, 'media', 'public/a.png', ANONYMOUS);
    await assertDenied(policy, 'docs', 'public/a.png', ANONYMOUS);
    await assertAllowed(policy, 'media', 'staff/a', alice);
    await assertAllowed(policy, 'docs', 'staff/a', alice);
  });

  it('no rules at all → deny with "no rule matched"', async () => {
    const decision = await assertDenied(createRulePolicy([]), 'docs', 'anything', alice);
    assert.deepEqual(decision, { effect: 'deny', ruleId: null, reason: 'no rule matched', source: 'default' });
  });

  it('works with rules straight from validated config', async () => {
    const config = validateConfig({
      stores: { docs: { type: 'fs', root: 'data' } },
      rules: [{ id: 'owner', key: 'users/:owner/*rest', when: [{ claim: 'sub', equalsParam: 'owner' }] }],
    });
    const policy = createRulePolicy(config.rules);
    await assertAllowed(policy, 'docs', 'users/alice/x', alice);
    await assertDenied(policy, 'docs', 'users/alice/x', bob);
  });

  it('a deny rule without actions denies every action; allow rules keep read and head', async () => {
    const config = validateConfig({
      stores: { docs: { type: 'fs', root: 'data' } },
      rules: [
        { id: 'no-private', key: 'private/*rest', effect: 'deny' },
        { id: 'all', key: '*rest', actions: ['read', 'head', 'transform', 'share', 'write'], when: [{ authenticated: true }] },
        { id: 'reader', key: 'public/*rest' },
      ],
    });
    assert.deepEqual(config.rules[0]?.actions, ['read', 'head', 'transform', 'share', 'write']);
    assert.deepEqual(config.rules[2]?.actions, ['read', 'head']);
    const policy = createRulePolicy(config.rules);
    for (const action of ['read', 'head', 'transform', 'share', 'write'] as const) {
      const decision = await policy.decide({ store: 'docs', key: key('private/x.jpg'), action }, alice);
      assert.equal(decision.effect, 'deny', action);
      assert.equal(decision.ruleId, 'no-private', action);
    }
  });
});

describe('key patterns', () => {
  it('matches keys containing "%", ";", spaces and unicode literally', async () => {
    const policy = createRulePolicy([ownerRule, rule({ key: 'shared/100%/*rest' }), rule({ key: 'Bücher/:title;v=:version' })]);
    for (const keyValue of [
      'users/alice/a%20b.txt',
      'users/alice/x;y=1',
      'users/alice/my file (1).pdf',
      'users/alice/ünï/📄 report.pdf',
      'users/alice/%2e%2e/x',
    ]) {
      await assertAllowed(policy, 'docs', keyValue, alice);
    }
    await assertAllowed(policy, 'docs', 'users/Zoë/x', user('Zoë'));
    await assertDenied(policy, 'docs', 'users/Zoë/x', user('Zoe\u0308')); // no unicode normalization
    await assertAllowed(policy, 'docs', 'shared/100%/x', ANONYMOUS);
    await assertDenied(policy, 'docs', 'shared/100%25/x', ANONYMOUS);
    await assertAllowed(policy, 'docs', 'Bücher/faust;v=2', ANONYMOUS);
  });

  it('returns params without decoding, wildcards joined with "/"', () => {
    const pattern = compileKeyPattern('users/:owner/*rest', 'rules[0]');
    assert.deepEqual({ ...pattern.match('users/a%2Fb/x/y%20z.txt') }, { owner: 'a%2Fb', rest: 'x/y%20z.txt' });
    assert.deepEqual(pattern.paramNames, ['owner', 'rest']);
    assert.equal(pattern.match('users/alice'), null);
  });

  it('supports "name.ext" params and optional groups', () => {
    const report = compileKeyPattern('reports/:year/:name.pdf', 'rules[0]');
    assert.deepEqual({ ...report.match('reports/2024/q1.pdf') }, { year: '2024', name: 'q1' });
    assert.equal(report.match('reports/2024/q1.txt'), null);
    assert.equal(report.match('reports/2024/sub/q1.pdf'), null);
    const docs = compileKeyPattern('docs{/:lang}/index.html', 'rules[0]');
    assert.deepEqual({ ...docs.match('docs/index.html') }, {});
    assert.deepEqual({ ...docs.match('docs/en/index.html') }, { lang: 'en' });
  });

  it('matches the whole key only', () => {
    const pattern = compileKeyPattern('public/:name', 'rules[0]');
    assert.equal(pattern.match('public/a/b'), null);
    assert.equal(pattern.match('xpublic/a'), null);
    assert.equal(pattern.match('public/a/'), null);
    assert.notEqual(compileKeyPattern('/public/:name', 'rules[0]').match('public/a'), null);
  });

  it('rejects an invalid pattern at start-up, naming the rule and the pattern', () => {
    assert.throws(
      () => createRulePolicy([ownerRule, rule({ id: 'broken', key: 'users/(:owner)' })]),
      (error: unknown) =>
        error instanceof Error && /rules\[1\]/.test(error.message) && /"broken"/.test(error.message) && error.message.includes('"users/(:owner)"'),
    );
    assert.throws(() => createRulePolicy([rule({ key: 'users/:' })]), /rules\[0\].*"users\/:"/s);
    assert.throws(() => createRulePolicy([rule({ key: 'a/{b' })]), /rules\[0\].*"a\/\{b"/s);
  });

  it('rejects an equalsParam that the pattern does not define, naming the rule', () => {
    assert.throws(
      () => createRulePolicy([rule({ id: 'typo', key: 'users/:owner/*rest', effect: 'deny', when: [{ claim: 'sub', equalsParam: 'ownr' }] })]),
      /"typo".*"ownr"/s,
    );
  });
});
