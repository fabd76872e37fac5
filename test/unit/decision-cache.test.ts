// The decision cache's pieces without nginx: the TTL each decision gets, the settings, and what
// the renderer emits (docs/nginx.md "Decision cache"). Behaviour through real nginx: test/integration/decision-cache.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Subject } from '../../src/auth/types.js';
import { ConfigError } from '../../src/config/errors.js';
import { validateConfig } from '../../src/config/load.js';
import { renderHttpInclude, renderServerInclude } from '../../src/nginx/render.js';
import { storeConstantHeaders } from '../../src/contract/decision-cache.js';
import { renderInput } from '../../src/cli/nginx-files.js';
import {
  decisionTtl,
  PRESIGN_MARGIN_SECONDS,
  ruleCacheSeconds,
  RuleFacts,
  TICKET_MARGIN_SECONDS,
  transformDecisionTtl,
  type DecisionTtlInput,
  type TransformTtlInput,
} from '../../src/policy/nginx-decision-ttl.js';
import type { Decision } from '../../src/policy/types.js';

const NOW = 1_800_000_000;
const alice: Subject = { authenticated: true, id: 'alice', claims: { sub: 'alice', exp: NOW + 3600 } };
const allow: Decision = { effect: 'allow', ruleId: 'r', reason: 'rule allowed', source: 'rule' };
const noFacts = { timeDependent: false, delegates: false, minRuleSeconds: undefined };

function ttl(overrides: Partial<DecisionTtlInput> = {}): ReturnType<typeof decisionTtl> {
  return decisionTtl({ storeSeconds: 30, ruleSeconds: undefined, decision: allow, subject: alice, rateLimited: false, facts: noFacts, now: NOW, ...overrides });
}

describe('decision TTL', () => {
  it('is the smallest bound: store, rule, token exp, webhook, presigned URL minus the margin', () => {
    assert.deepEqual(ttl(), { seconds: 30, bound: 'store' });
    assert.deepEqual(ttl({ ruleSeconds: 10 }), { seconds: 10, bound: 'rule' });
    assert.deepEqual(ttl({ subject: { ...alice, claims: { exp: NOW + 7 } } }), { seconds: 7, bound: 'token exp' });
    assert.deepEqual(ttl({ decision: { ...allow, source: 'webhook', ttlSeconds: 5 } }), { seconds: 5, bound: 'webhook' });
    assert.deepEqual(ttl({ presignSeconds: 20 }), { seconds: 20 - PRESIGN_MARGIN_SECONDS, bound: 'presigned URL' });
    assert.equal(ttl({ presignSeconds: 60 }).seconds, 30);
    assert.equal(ttl({ storeSeconds: 3600, presignSeconds: 60 }).seconds, 60 - PRESIGN_MARGIN_SECONDS);
  });

  it('is 0 whenever a request must reach the app', () => {
    const never = (input: Partial<DecisionTtlInput>): number => ttl(input).seconds;
    assert.equal(never({ storeSeconds: 0 }), 0);
    assert.equal(never({ decision: { effect: 'deny', ruleId: null, reason: 'no rule matched', source: 'default' } }), 0);
    assert.equal(never({ rateLimited: true }), 0);
    assert.equal(never({ ruleSeconds: 0 }), 0);
    assert.equal(never({ facts: { ...noFacts, timeDependent: true } }), 0);
    assert.equal(never({ decision: { ...allow, source: 'webhook', ttlSeconds: 0 } }), 0);
    assert.equal(never({ decision: { ...allow, source: 'plugin', ttlSeconds: 30, cacheHit: true } }), 0, "an answer from the app's own cache has aged");
    assert.equal(never({ subject: { ...alice, claims: { exp: NOW - 1 } } }), 0, 'expired (within the clock tolerance)');
    assert.equal(never({ subject: { ...alice, claims: {} } }), 0, 'a token without exp');
    assert.equal(never({ presignSeconds: PRESIGN_MARGIN_SECONDS }), 0);
    const share = { linkId: 'l1', store: 'docs', key: 'a.txt', expiresAt: NOW + 600, creator: null };
    assert.equal(
      never({ subject: { authenticated: false, id: null, claims: {}, via: 'share-link', share: { ...share, maxDownloads: 1 } } }),
      0,
      'counted link',
    );
  });

  it('bounds share links by their expiry, and by every rule that can apply when the creator is re-checked', () => {
    const link = (creator: Subject | null): Subject => ({
      authenticated: false,
      id: null,
      claims: {},
      via: 'share-link',
      share: { linkId: 'l1', store: 'docs', key: 'a.txt', expiresAt: NOW + 12, creator },
    });
    assert.deepEqual(ttl({ subject: link(null) }), { seconds: 12, bound: 'share link expiry' });
    assert.deepEqual(ttl({ subject: link(alice), facts: { ...noFacts, minRuleSeconds: 4 } }), { seconds: 4, bound: 'rule' });
    assert.equal(ttl({ subject: link(alice), facts: { ...noFacts, delegates: true } }).seconds, 0);
  });

  it('reads rule settings by the ids decisions carry, and only rules that can match the key', () => {
    const config = validateConfig({
      stores: { docs: { type: 'fs', root: '/srv/docs' }, other: { type: 'fs', root: '/srv/other' } },
      rules: [
        { id: 'a', key: 'a/*rest', cacheSeconds: 5 },
        { key: 'b/*rest', cacheSeconds: 0 },
        { id: 't', key: 't/*rest', when: [{ time: { hours: { from: 8, to: 18 } } }] },
        { store: 'other', key: '*rest', cacheSeconds: 1 },
      ],
    });
    assert.deepEqual(
      [...ruleCacheSeconds(config.rules)],
      [
        ['a', 5],
        ['#1', 0],
        ['#3', 1],
      ],
    );
    const facts = new RuleFacts(config.rules, 'docs');
    assert.deepEqual(facts.of('a/x'), { timeDependent: false, delegates: false, minRuleSeconds: 5 });
    assert.deepEqual(facts.of('t/x'), { timeDependent: true, delegates: false, minRuleSeconds: undefined });
    assert.equal(facts.of('b/x').minRuleSeconds, 0);
  });
});

describe('decision cache settings and rendering', () => {
  const base = { stores: { docs: { type: 'fs', root: '/srv/docs' } }, auth: { cookieName: 'session' } };

  it('is off by default: nothing of it is rendered', async () => {
    const input = await renderInput(validateConfig(base), '127.0.0.1:3000');
    assert.doesNotMatch(renderHttpInclude(input) + renderServerInclude(input), /decide|proxy_cache|sluice_dc/);
  });

  it('renders the cached auth_request target, the store location and the audit log', async () => {
    const config = validateConfig({ ...base, stores: { docs: { type: 'fs', root: '/srv/docs', decisionCache: { ttlSeconds: 10 } } } });
    const input = await renderInput(config, '127.0.0.1:3000');
    const http = renderHttpInclude(input);
    const server = renderServerInclude(input);
    assert.match(http, /proxy_cache_path "\/var\/cache\/nginx\/sluice-decisions" levels=1:2 keys_zone=sluice_decisions:10m/);
    assert.match(http, /log_format sluice_audit escape=json/);
    // The key holds signatures and the path, never a header or cookie as sent.
    const key = /proxy_cache_key "([^"]*)";/.exec(server)?.[1] ?? '';
    assert.match(key, /\$sluice_dc_auth_sig/);
    assert.doesNotMatch(key, /\$http_|\$cookie_|\$args|\$arg_|\$request_uri|\$sluice_dc_share[^_]|\$sluice_dc_cookie_token/);
    assert.match(server, /proxy_cache_bypass \$sluice_dc_auth_skip \$sluice_dc_cookie_skip \$sluice_dc_args_skip;/);
    assert.match(server, /proxy_no_cache \$sluice_dc_auth_skip \$sluice_dc_cookie_skip \$sluice_dc_args_skip;/);
    assert.doesNotMatch(server, /proxy_ignore_headers[^;]*Set-Cookie/);
    assert.match(server, /location \^~ \/files\/docs\/ \{\n    set \$sluice_dc_store "docs";/);
    // An exact location: the jump after the decision tests no regex location on the way.
    assert.match(server, /location = \/_sluice\/dc\/docs\/serve \{\n    internal;\n[^}]*alias "\/srv\/docs\/\$sluice_dc_key";/);
    assert.match(server, /disable_symlinks on from="\/srv\/docs";/);
    assert.match(server, /secure_link_md5 "\$http_authorization\|\$sluice_dc_cookie_token\|\$sluice_dc_share";/);
    // Buffered by default, with the same parameters everywhere (nginx refuses one file with two).
    const audits = server.match(/access_log "\/var\/log\/nginx\/sluice-audit.log"[^;]*;/g) ?? [];
    assert.ok(audits.length > 0);
    for (const line of audits) assert.equal(line, 'access_log "/var/log/nginx/sluice-audit.log" sluice_audit buffer=64k flush=1s;');
    // The store's constant headers are stated in its serving location, not carried by the decision.
    assert.match(server, /add_header Cache-Control "private, no-store";/);
    assert.match(server, /add_header X-Content-Type-Options "nosniff" always;/);
    assert.doesNotMatch(server, /x_sluice_cache_control|x_sluice_nosniff/);
    // The cookie maps use the configured name.
    assert.match(http, /"~\*session\.\*session" 1;/);
    // Every location under the internal prefix is internal.
    for (const location of server.match(/location (?:\^~ |= |~ \^)?\/_sluice\/[^{]*\{\n[^\n]*/g) ?? []) assert.match(location, /\{\n    internal;$/, location);
  });

  it('writes the audit log unbuffered when told, and carries a Cache-Control nginx cannot take literally', async () => {
    const config = validateConfig({
      ...base,
      stores: { docs: { type: 'fs', root: '/srv/docs', cacheControl: 'private, max-age=$60', decisionCache: { ttlSeconds: 10 } } },
      nginx: { decisionCache: { auditLogBuffer: 'off' } },
    });
    const server = renderServerInclude(await renderInput(config, '127.0.0.1:3000'));
    for (const line of server.match(/access_log "[^"]*sluice-audit.log"[^;]*;/g) ?? [])
      assert.equal(line, 'access_log "/var/log/nginx/sluice-audit.log" sluice_audit;');
    assert.match(server, /auth_request_set \$sluice_dc_h_cache_control \$upstream_http_x_sluice_cache_control;/);
    assert.match(server, /add_header Cache-Control \$sluice_dc_h_cache_control;/);
    assert.deepEqual(storeConstantHeaders('private, max-age=$60'), { 'X-Content-Type-Options': 'nosniff' });
    assert.deepEqual(storeConstantHeaders('public, max-age=60'), { 'Cache-Control': 'public, max-age=60', 'X-Content-Type-Options': 'nosniff' });
    assert.throws(
      () => validateConfig({ ...base, nginx: { decisionCache: { auditLogBuffer: '64 KB' } } }),
      (error: unknown) => error instanceof ConfigError && /auditLogBuffer/.test(error.message),
    );
  });

  it('refuses the cache where nginx does not serve the bytes, naming the setting', () => {
    const refused = (store: Record<string, unknown>): void => {
      assert.throws(
        () => validateConfig({ stores: { docs: { type: 'fs', root: '/srv/docs', decisionCache: { ttlSeconds: 5 }, ...store } } }),
        (error: unknown) => error instanceof ConfigError && /stores\.docs\.decisionCache/.test(error.message),
      );
    };
    refused({ encrypted: true });
    refused({ delivery: 'stream' });
    assert.throws(() => validateConfig({ ...base, nginx: { decisionCache: { path: 'relative/dir' } } }), ConfigError);
  });
});

describe('image decisions (transform.decisionCache)', () => {
  const image = (overrides: Partial<TransformTtlInput> = {}): ReturnType<typeof transformDecisionTtl> =>
    transformDecisionTtl({
      authorization: { seconds: 30, bound: 'transform' },
      ticketExpires: NOW + 60,
      workerTimeoutSeconds: 10,
      urlExpires: null,
      clockedCacheControl: false,
      clientOutsideKey: false,
      now: NOW,
      ...overrides,
    });

  it("is bounded by the authorization, the ticket, the presigned source and the URL's expires", () => {
    assert.deepEqual(image(), { seconds: 30, bound: 'transform' });
    assert.deepEqual(image({ authorization: { seconds: 4, bound: 'rule' } }), { seconds: 4, bound: 'rule' });
    assert.deepEqual(image({ workerTimeoutSeconds: 40 }), { seconds: 60 - 40 - TICKET_MARGIN_SECONDS, bound: 'ticket' });
    assert.deepEqual(image({ presignSeconds: 40 }), { seconds: 40 - 2 * 10 - TICKET_MARGIN_SECONDS, bound: 'presigned URL' });
    assert.deepEqual(image({ urlExpires: NOW + 7 }), { seconds: 7, bound: 'URL expires' });
  });

  it('is 0 when the answer cannot be reused as it is', () => {
    assert.equal(image({ authorization: { seconds: 0, bound: 'denied' } }).seconds, 0);
    assert.equal(image({ clientOutsideKey: true }).seconds, 0, "another address's budget");
    assert.equal(image({ clockedCacheControl: true }).seconds, 0, 'Cache-Control counting down to expires');
    assert.equal(image({ workerTimeoutSeconds: 60 }).seconds, 0, 'the ticket would expire before the worker sees it');
    assert.equal(image({ urlExpires: NOW }).seconds, 0);
  });

  it('names the transform setting when it is the bound', () => {
    assert.deepEqual(ttl({ storeSeconds: 5, setting: 'transform' }), { seconds: 5, bound: 'transform' });
    assert.deepEqual(ttl({ storeSeconds: 0, setting: 'transform' }), { seconds: 0, bound: 'transform: decision cache off' });
  });

  const transformBase = {
    stores: { photos: { type: 'fs', root: '/srv/photos' } },
    auth: { cookieName: 'session' },
    transform: { enabled: true, keys: ['aa'], salts: ['bb'] },
    worker: { secret: 'unit-worker-secret-0123456789abcdef0123' },
  };

  it('is off by default: the image prefixes go to the app as before', async () => {
    const input = await renderInput(validateConfig(transformBase), '127.0.0.1:3000');
    const server = renderServerInclude(input);
    assert.doesNotMatch(renderHttpInclude(input) + server, /decide-img|sluice_dc|sluice_decisions/);
    assert.match(server, /location \^~ \/images\/ \{\n    proxy_pass http:\/\/sluice_app;/);
  });

  it('renders both prefixes behind a cached auth_request, keyed without credentials, Accept as a class', async () => {
    const config = validateConfig({ ...transformBase, transform: { ...transformBase.transform, decisionCache: { ttlSeconds: 10 } } });
    const input = await renderInput(config, '127.0.0.1:3000');
    const http = renderHttpInclude(input);
    const server = renderServerInclude(input);
    assert.match(http, /proxy_cache_path "[^"]+" levels=1:2 keys_zone=sluice_decisions:/);
    assert.match(http, /"action":"\$sluice_dc_action"/);
    // Only stores' decisions read the carried Content-Type: not rendered without one.
    assert.doesNotMatch(http, /sluice_dc_h_content_type/);
    for (const [prefix, form] of [
      ['/img', 'imgproxy'],
      ['/images', 'native'],
    ]) {
      assert.match(server, new RegExp(`location \\^~ ${prefix}/ \\{\\n    set \\$sluice_dc_action transform;[^}]*auth_request /_sluice/decide-img/${form};`));
    }
    const native = /location = \/_sluice\/decide-img\/native \{[^}]*\}/.exec(server)?.[0] ?? '';
    const imgproxy = /location = \/_sluice\/decide-img\/imgproxy \{[^}]*\}/.exec(server)?.[0] ?? '';
    const nativeKey = /proxy_cache_key "([^"]*)";/.exec(native)?.[1] ?? '';
    const imgproxyKey = /proxy_cache_key "([^"]*)";/.exec(imgproxy)?.[1] ?? '';
    assert.equal(
      nativeKey,
      'native|$request_method|$request_uri|a:$sluice_dc_img_avif$sluice_dc_img_webp|r:$sluice_dc_img_addr|b:$sluice_dc_auth_sig|c:$sluice_dc_cookie_sig',
    );
    assert.equal(imgproxyKey, 'imgproxy|$request_method|$sluice_dc_path|a:$sluice_dc_img_avif$sluice_dc_img_webp|r:$remote_addr');
    for (const key of [nativeKey, imgproxyKey]) assert.doesNotMatch(key, /\$http_|\$cookie_|\$args|\$arg_|\$sluice_dc_share|\$sluice_dc_cookie_token/);
    // The app is asked with the class that is in the key, never the raw header.
    for (const block of [native, imgproxy]) assert.match(block, /proxy_set_header Accept \$sluice_dc_img_accept_out;/);
    assert.match(native, /proxy_no_cache \$sluice_dc_auth_skip \$sluice_dc_cookie_skip \$sluice_dc_img_args_skip \$sluice_dc_img_accept_skip;/);
    assert.match(imgproxy, /proxy_no_cache \$sluice_dc_img_accept_skip;/);
    assert.match(http, /map \$sluice_dc_args \$sluice_dc_img_args_skip \{\n    "~\(\?:\^\|&\)share\(\?:\[=&\]\|\$\)" 1;/);
    // Native hits are bound to the request's credentials; imgproxy URLs carry none.
    const nativeServe = /location = \/_sluice\/dc\/_img\/serve \{[\s\S]*?\n\}/.exec(server)?.[0] ?? '';
    const imgproxyServe = /location = \/_sluice\/dc\/_imgproxy\/serve \{[\s\S]*?\n\}/.exec(server)?.[0] ?? '';
    assert.match(nativeServe, /secure_link_md5 "\$http_authorization\|\$sluice_dc_cookie_token\|\$sluice_dc_share";/);
    assert.doesNotMatch(imgproxyServe, /secure_link/);
    for (const serve of [nativeServe, imgproxyServe]) {
      assert.match(serve, /set \$sluice_img_ticket \$sluice_dc_img_ticket;/);
      assert.match(serve, /proxy_cache_key \$sluice_img_key;/);
      assert.match(serve, /error_page 502 504 = \/_sluice\/dc\/nginx-error\/worker;/);
      assert.match(serve, /access_log "[^"]+" sluice_audit buffer=64k flush=1s;/);
    }
    // The classic X-Accel-Redirect target stays, reading the app's own answer.
    assert.match(server, /location = \/_sluice\/img \{\n    internal;\n    set \$sluice_img_ticket \$upstream_http_x_sluice_img_ticket;/);
    // Every location under the internal prefix is internal.
    for (const location of server.match(/location (?:\^~ |= |~ \^)?\/_sluice\/[^{]*\{\n[^\n]*/g) ?? []) assert.match(location, /\{\n    internal;$/, location);
  });
});
