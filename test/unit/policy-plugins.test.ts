// Plugins: loading (paths, packages, factories, failures), how delegate rules combine with them,
// and the example tenant-isolation plugin.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ANONYMOUS, type Subject } from '../../src/auth/types.js';
import { ConfigError } from '../../src/config/errors.js';
import { policySchema, ruleSchema } from '../../src/config/policy-schema.js';
import { PublicError } from '../../src/errors.js';
import { createLogger } from '../../src/observability/logger.js';
import { createPolicyEngine } from '../../src/policy/engine.js';
import type { Decision, Policy } from '../../src/policy/types.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const logger = createLogger('silent');
let dir: string;

const alice: Subject = { authenticated: true, id: 'alice', claims: { sub: 'alice', tenant: 'acme', org: { tenant: 'acme' } } };
const bob: Subject = { authenticated: true, id: 'bob', claims: { sub: 'bob', tenant: 'globex' } };

/** A counting plugin: answers from options.answers by key, records every call in globalThis. */
const COUNTING_PLUGIN = `
export default function create(options) {
  const calls = (globalThis.__pluginCalls ??= []);
  return {
    name: options.name ?? 'counting',
    patterns: options.patterns ?? ['media/:pkg/*rest'],
    authorize(request, subject) {
      calls.push({ key: request.key.value, params: { ...request.params }, subject: subject.id });
      const answer = options.answers[request.key.value] ?? options.answers['*'];
      if (answer === 'throw') throw new Error('database down');
      return answer;
    },
  };
}`;

async function plugin(file: string, source: string): Promise<string> {
  await writeFile(path.join(dir, file), source);
  return `./${file}`;
}

function calls(): { key: string; params: Record<string, string>; subject: string | null }[] {
  return ((globalThis as Record<string, unknown>).__pluginCalls ??= []) as never;
}

async function engine(rules: unknown[], policy: Record<string, unknown>, baseDir = dir): Promise<Policy> {
  return createPolicyEngine({ rules: rules.map((r) => ruleSchema.parse(r)), policy: policySchema.parse(policy) }, { logger, baseDir });
}

function decide(policy: Policy, keyValue: string, subject: Subject, store = 'docs'): Promise<Decision> {
  return policy.decide({ store, key: { segments: keyValue.split('/'), value: keyValue }, action: 'read' }, subject);
}

async function configError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.message;
  }
  return assert.fail('expected a ConfigError');
}

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-plugins-'));
  await plugin('counting.mjs', COUNTING_PLUGIN);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('delegate rules and plugins', () => {
  const counting = (answers: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    plugins: [{ module: './counting.mjs', options: { answers, ...extra } }],
  });

  it('allow and deny decide; the decision names rule, plugin and source', async () => {
    const policy = await engine(
      [{ id: 'media', effect: 'delegate', to: 'counting' }],
      counting({ 'media/p1/a': { effect: 'allow', ttlSeconds: 0 }, '*': { effect: 'deny', reason: 'not yours', ttlSeconds: 0 } }),
    );
    const allowed = await decide(policy, 'media/p1/a', alice);
    assert.deepEqual(allowed, {
      effect: 'allow',
      ruleId: 'media',
      reason: 'plugin "counting" allowed (rule "media")',
      source: 'plugin',
      plugin: 'counting',
      cacheHit: false,
      ttlSeconds: 0,
    });
    const denied = await decide(policy, 'media/p1/b', alice);
    assert.equal(denied.reason, 'plugin "counting" denied: not yours (rule "media")');
    assert.deepEqual(calls().at(-1), { key: 'media/p1/b', params: { pkg: 'p1', rest: 'b' }, subject: 'alice' });
  });

  it('abstain falls through to later rules; with none left the default deny holds', async () => {
    const policy = await engine(
      [
        { effect: 'delegate', to: 'counting' },
        { id: 'public', key: 'media/public/*rest', when: [{ public: true }] },
      ],
      counting({ '*': { effect: 'abstain' } }),
    );
    assert.equal((await decide(policy, 'media/public/logo.png', ANONYMOUS)).ruleId, 'public');
    const fallback = await decide(policy, 'media/p1/a', alice);
    assert.deepEqual([fallback.effect, fallback.source, fallback.reason], ['deny', 'default', 'no rule matched']);
  });

  it('an explicit deny placed before a delegate rule wins without asking the plugin', async () => {
    const before = calls().length;
    const policy = await engine(
      [
        { id: 'no-drafts', key: 'media/:pkg/drafts/*rest', effect: 'deny' },
        { effect: 'delegate', to: 'counting' },
      ],
      counting({ '*': { effect: 'allow' } }),
    );
    assert.equal((await decide(policy, 'media/p1/drafts/x', alice)).ruleId, 'no-drafts');
    assert.equal(calls().length, before);
  });

  it('asks a plugin only inside its own patterns and the rule key, store, actions and conditions', async () => {
    const policy = await engine(
      [{ store: 'docs', key: 'media/p1/*rest', effect: 'delegate', to: 'counting', when: [{ authenticated: true }] }],
      counting({ '*': { effect: 'allow', ttlSeconds: 0 } }),
    );
    const before = calls().length;
    assert.equal((await decide(policy, 'other/p1/a', alice)).effect, 'deny'); // rule key does not match
    assert.equal((await decide(policy, 'media/p1', alice)).effect, 'deny'); // "*rest" needs one more segment
    assert.equal((await decide(policy, 'media/p1/a', alice, 'private')).effect, 'deny'); // other store
    assert.equal((await decide(policy, 'media/p1/a', ANONYMOUS)).effect, 'deny'); // condition fails
    assert.equal(calls().length, before);
    assert.equal((await decide(policy, 'media/p1/a', alice)).effect, 'allow');
    assert.equal(calls().length, before + 1);
    const narrow = await engine([{ effect: 'delegate', to: 'counting' }], counting({ '*': { effect: 'allow' } }, { patterns: ['media/:pkg/video/*rest'] }));
    assert.equal((await decide(narrow, 'media/p1/audio/a', alice)).effect, 'deny'); // outside the plugin's patterns
    assert.equal(calls().length, before + 1);
  });

  it('caches plugin answers by TTL and scope', async () => {
    const policy = await engine([{ effect: 'delegate', to: 'counting' }], counting({ '*': { effect: 'allow', ttlSeconds: 60, scope: 'media/p2' } }));
    const before = calls().length;
    const first = await decide(policy, 'media/p2/a', bob);
    const second = await decide(policy, 'media/p2/b', bob);
    assert.deepEqual([first.cacheHit, first.ttlSeconds, second.cacheHit, second.ttlSeconds], [false, 60, true, 60]);
    assert.equal(calls().length, before + 1);
  });

  it('the limitRate of a delegate rule applies when its authority allows', async () => {
    const policy = await engine(
      [{ effect: 'delegate', to: 'counting', limitRate: '1m' }],
      counting({ 'media/p1/slow': { effect: 'allow' }, '*': { effect: 'deny' } }),
    );
    assert.equal((await decide(policy, 'media/p1/slow', alice)).limitRate, 1048576);
    assert.equal((await decide(policy, 'media/p1/other', alice)).limitRate, undefined);
  });

  it('fails closed with 503 when a plugin throws or answers nonsense', async () => {
    for (const answer of ['throw', { effect: 'maybe' }, { allow: true }, null, { effect: 'allow', ttlSeconds: -1 }]) {
      const policy = await engine([{ effect: 'delegate', to: 'counting' }, { key: '*rest' }], counting({ '*': answer }));
      await assert.rejects(
        decide(policy, 'media/p1/a', alice),
        (error: unknown) => {
          assert.ok(error instanceof PublicError);
          assert.deepEqual([error.status, error.reason], [503, 'authorization unavailable']);
          assert.match(String((error.cause as Error).message), /plugin "counting"/);
          return true;
        },
        JSON.stringify(answer),
      );
    }
  });
});

describe('plugin loading', () => {
  it('names the plugin key when the module is missing, broken or not a plugin', async () => {
    assert.match(
      await configError(engine([], { plugins: [{ module: './missing.mjs' }] })),
      /policy\.plugins\.0\.module \(SLUICE_POLICY__PLUGINS__0__MODULE\): cannot load plugin "\.\/missing\.mjs"/,
    );
    assert.match(
      await configError(engine([], { plugins: [{ module: 'sluice-plugin-that-does-not-exist' }] })),
      /policy\.plugins\.0\.module.*cannot load plugin "sluice-plugin-that-does-not-exist"/,
    );
    const broken = await plugin('broken.mjs', 'export default {{;');
    assert.match(await configError(engine([], { plugins: [{ module: broken }] })), /cannot load plugin "\.\/broken\.mjs"/);
    assert.match(await configError(engine([], { plugins: [{ module: 'yaml' }] })), /"yaml" does not export a plugin/);
    const noAuthorize = await plugin('half.mjs', "export const name = 'half'; export const patterns = ['a/*r'];");
    assert.match(await configError(engine([], { plugins: [{ module: noAuthorize }] })), /authorize must be a function/);
    const failing = await plugin('failing.mjs', "export default () => { throw new Error('needs a DSN'); };");
    assert.match(await configError(engine([], { plugins: [{ module: failing }] })), /failed to initialize: needs a DSN/);
  });

  it('accepts named exports and a package-less absolute path', async () => {
    const named = await plugin(
      'named.mjs',
      "export const name = 'named'; export const patterns = ['n/*r']; export function authorize() { return { effect: 'allow', ttlSeconds: 0 }; }",
    );
    const policy = await engine([{ effect: 'delegate', to: 'named' }], { plugins: [{ module: path.join(dir, named) }] });
    assert.equal((await decide(policy, 'n/x', alice)).effect, 'allow');
  });

  it('refuses bad names, duplicates and invalid patterns, naming the plugin', async () => {
    assert.match(
      await configError(engine([], { plugins: [{ module: './counting.mjs', options: { answers: {}, name: 'webhook' } }] })),
      /"webhook" is reserved/,
    );
    assert.match(await configError(engine([], { plugins: [{ module: './counting.mjs', options: { answers: {}, name: 'Bad Name' } }] })), /name: lowercase/);
    const twice = {
      plugins: [
        { module: './counting.mjs', options: { answers: {} } },
        { module: './counting.mjs', options: { answers: {} } },
      ],
    };
    assert.match(await configError(engine([], twice)), /policy\.plugins\.1\.module.*"counting" is already loaded/);
    const badPattern = { plugins: [{ module: './counting.mjs', options: { answers: {}, patterns: ['ok/*r', 'media/(:pkg)'] } }] };
    assert.match(await configError(engine([], badPattern)), /policy\.plugins\[0\] \("counting"\)\.patterns\[1\]: invalid key pattern "media\/\(:pkg\)"/);
  });

  it('refuses a rule that delegates to something not loaded', async () => {
    const message = await configError(engine([{ key: 'a/*r' }, { id: 'media', effect: 'delegate', to: 'counting' }], {}));
    assert.match(message, /rules\.1\.to \(SLUICE_RULES__1__TO\): rules\[1\] \("media"\) delegates to "counting", which is not a loaded plugin/);
    assert.match(await configError(engine([{ effect: 'delegate', to: 'webhook' }], {})), /set policy\.webhook\.url/);
  });
});

describe('example plugin: tenant isolation', () => {
  const module = './examples/plugins/tenant-isolation.ts';
  const rules = [
    { id: 'tenants', effect: 'delegate', to: 'tenant-isolation' },
    { id: 'public', key: 'tenants/:t/public/*rest', when: [{ public: true }] },
  ];

  it('allows the own tenant, denies others and subjects without a tenant', async () => {
    const policy = await engine(rules, { plugins: [{ module }] }, REPO);
    assert.equal((await decide(policy, 'tenants/acme/report.pdf', alice)).effect, 'allow');
    const other = await decide(policy, 'tenants/acme/report.pdf', bob);
    assert.deepEqual([other.effect, other.reason], ['deny', 'plugin "tenant-isolation" denied: another tenant (rule "tenants")']);
    assert.equal((await decide(policy, 'tenants/acme/report.pdf', { authenticated: true, id: 'x', claims: { sub: 'x' } })).effect, 'deny');
    assert.equal((await decide(policy, 'tenants/acme/public/x', bob)).effect, 'deny'); // deny decides before "public"
    assert.equal((await decide(policy, 'elsewhere/x', alice)).source, 'default'); // outside its pattern
  });

  it('lets anonymous callers fall through to later rules (public folders)', async () => {
    const policy = await engine(rules, { plugins: [{ module }] }, REPO);
    assert.equal((await decide(policy, 'tenants/acme/public/logo.png', ANONYMOUS)).ruleId, 'public');
    assert.equal((await decide(policy, 'tenants/acme/report.pdf', ANONYMOUS)).source, 'default');
  });

  it('takes claim path and prefix options; bad options stop start-up', async () => {
    const policy = await engine(rules, { plugins: [{ module, options: { claim: 'org.tenant', prefix: 'orgs' } }] }, REPO);
    assert.equal((await decide(policy, 'orgs/acme/x', alice)).effect, 'allow');
    assert.equal((await decide(policy, 'tenants/acme/x', alice)).source, 'default');
    assert.match(
      await configError(engine(rules, { plugins: [{ module, options: { prefix: 'a/b' } }] }, REPO)),
      /failed to initialize: tenant-isolation: prefix/,
    );
    assert.match(await configError(engine(rules, { plugins: [{ module, options: { claim: 7 } }] }, REPO)), /option claim/);
  });
});
