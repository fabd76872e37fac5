import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mintToken } from '../../src/auth/mint.js';
import type { Subject } from '../../src/auth/types.js';
import type { ConfigError } from '../../src/config/errors.js';
import { validateConfig } from '../../src/config/load.js';
import type { PublicError } from '../../src/errors.js';
import type { Policy } from '../../src/policy/types.js';
import { createRulePolicy } from '../../src/policy/rule-policy.js';
import { grantCovers, withShareLinks } from '../../src/sharing/link-policy.js';
import { createLinkKeyRing, type NewLink } from '../../src/sharing/link-token.js';
import { keyFromText, linkScope, parseMintRequest } from '../../src/sharing/mint.js';
import { canonicalizeKey } from '../../src/storage/key.js';
import { statusOf } from '../helpers/public-error.js';

const K1 = { kid: 'k1', secret: 'unit-link-secret-one-0123456789abcdef' };
const K2 = { kid: 'k2', secret: 'unit-link-secret-two-0123456789abcdef' };
const T0 = Date.UTC(2030, 0, 1);
const LINK: NewLink = { store: 'docs', key: 'reports/q1.pdf', expiresAt: T0 / 1000 + 60, maxDownloads: 1, boundTo: 'bob', createdBy: 'alice' };

function decodePart(token: string, index: number): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index] as string, 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('sharing config', () => {
  const base = { stores: { docs: { type: 'fs', root: '.' } } };

  it('is off by default', () => {
    const { sharing } = validateConfig(base);
    assert.deepEqual(sharing.keys, []);
    assert.equal(sharing.maxExpiresInSeconds, 604_800);
    assert.equal(sharing.rateLimit, undefined);
    assert.deepEqual(sharing.authRequest.locations, {});
  });

  it('names the setting that is wrong', () => {
    assert.throws(
      () => validateConfig({ ...base, sharing: { keys: [K1, { ...K2, kid: 'k1' }] } }),
      (e: ConfigError) => /sharing\.keys \(SLUICE_SHARING__KEYS\): kids must be unique/.test(e.message),
    );
    assert.throws(() => validateConfig({ ...base, sharing: { keys: [{ kid: 'k', secret: 'short' }] } }), /sharing\.keys\.0\.secret/);
    assert.throws(() => validateConfig({ ...base, sharing: { rateLimit: { requestsPerSecond: 0 } } }), /sharing\.rateLimit\.requestsPerSecond/);
    assert.throws(() => validateConfig({ ...base, sharing: { authRequest: { locations: { 'protected/': 'docs' } } } }), /sharing\.authRequest\.locations/);
  });

  it('defaults the burst to the rate', () => {
    assert.deepEqual(validateConfig({ ...base, sharing: { rateLimit: { requestsPerSecond: 2.5 } } }).sharing.rateLimit, { requestsPerSecond: 2.5, burst: 3 });
  });
});

describe('link tokens', () => {
  it('round-trips the scope, with the kid of the first key', async () => {
    const ring = createLinkKeyRing([K1, K2], () => T0);
    const { token, claims } = await ring.sign(LINK);
    assert.deepEqual(decodePart(token, 0), { alg: 'HS256', typ: 'sluice-link+jwt', kid: 'k1' });
    assert.deepEqual(await ring.verify(token), claims);
    assert.equal(claims.issuedAt, T0 / 1000);
    assert.equal(claims.id.length, 22);
    assert.notEqual((await ring.sign(LINK)).claims.id, claims.id);
  });

  it('rotates: every listed key verifies, the first signs, an unlisted one is refused', async () => {
    const before = createLinkKeyRing([K1], () => T0);
    const during = createLinkKeyRing([K2, K1], () => T0);
    const after = createLinkKeyRing([K2], () => T0);
    const old = (await before.sign(LINK)).token;
    assert.equal((await during.verify(old)).key, 'reports/q1.pdf');
    assert.equal(decodePart((await during.sign(LINK)).token, 0).kid, 'k2');
    assert.equal(await statusOf(after.verify(old)), 401);
  });

  it('refuses a link with any single character changed', async () => {
    const ring = createLinkKeyRing([K1], () => T0);
    const { token } = await ring.sign(LINK);
    for (let i = 0; i < token.length; i++) {
      if (token[i] === '.') continue;
      for (const c of ['A', 'B', 'g', '_']) {
        if (c === token[i]) continue;
        const tampered = token.slice(0, i) + c + token.slice(i + 1);
        assert.equal(await statusOf(ring.verify(tampered)), 401, `position ${i} → ${c}`);
      }
    }
  });

  it('refuses a forged payload, alg none and a different kind of token', async () => {
    const ring = createLinkKeyRing([K1], () => T0);
    const { token } = await ring.sign(LINK);
    const [header, , signature] = token.split('.') as [string, string, string];
    const widened = Buffer.from(JSON.stringify({ ...decodePart(token, 1), key: 'secret.pdf' })).toString('base64url');
    assert.equal(await statusOf(ring.verify(`${header}.${widened}.${signature}`)), 401);
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'sluice-link+jwt', kid: 'k1' })).toString('base64url');
    assert.equal(await statusOf(ring.verify(`${none}.${token.split('.')[1]}.`)), 401);
    // A bearer token signed with the very same secret and kid is still not a link (typ).
    const bearer = await mintToken({ secret: K1.secret, kid: 'k1', sub: 'alice', ttlSeconds: 60, claims: { store: 'docs', key: 'x', jti: 'j' } });
    assert.equal(await statusOf(ring.verify(bearer)), 401);
    assert.equal(await statusOf(ring.verify('x'.repeat(5000))), 401);
    assert.equal(await statusOf(ring.verify('not-a-token')), 401);
  });

  it('answers 410 once expired, and only for a genuine link', async () => {
    let now = T0;
    const ring = createLinkKeyRing([K1], () => now);
    const { token } = await ring.sign(LINK);
    now = T0 + 59_000;
    assert.equal(await statusOf(ring.verify(token)), 0);
    now = T0 + 60_000;
    assert.equal(await statusOf(ring.verify(token)), 410);
    assert.equal(await statusOf(ring.verify(`${token.slice(0, -3)}AAA`)), 401);
  });
});

describe('share link scope', () => {
  const creator: Subject = { authenticated: true, id: 'alice', claims: { sub: 'alice' } };
  const grant = { linkId: 'l1', store: 'docs', expiresAt: 0, creator };
  const req = (key: string, action: 'read' | 'head' | 'transform' | 'share' = 'read', store = 'docs') => ({ store, key: canonicalizeKey(key), action });

  it('a key link covers exactly that key, for read and head', () => {
    const keyGrant = { ...grant, key: 'a/b.txt' };
    assert.ok(grantCovers(keyGrant, req('a/b.txt')));
    assert.ok(grantCovers(keyGrant, req('a/b.txt', 'head')));
    for (const r of [req('a/b.txt', 'transform'), req('a/b.txt', 'share'), req('a/b.txt', 'read', 'other'), req('a/b.txt.bak'), req('a/B.txt')]) {
      assert.equal(grantCovers(keyGrant, r), false, JSON.stringify(r));
    }
  });

  it('a prefix link covers keys under the folder, not the folder name as a prefix of a string', () => {
    const prefixGrant = { ...grant, prefix: 'users/alice' };
    assert.ok(grantCovers(prefixGrant, req('users/alice/x.txt')));
    assert.ok(grantCovers(prefixGrant, req('users/alice/deep/y.txt')));
    assert.equal(grantCovers(prefixGrant, req('users/alice2/x.txt')), false);
    assert.equal(grantCovers(prefixGrant, req('users/alice')), false);
  });

  it('the decorated policy judges link subjects by the link and their creator, everyone else by the policy', async () => {
    const calls: string[] = [];
    const inner: Policy = {
      async decide(request, subject) {
        calls.push(`${subject.id}:${request.action}:${request.key.value}`);
        return { effect: 'allow', ruleId: 'inner', reason: 'inner' };
      },
    };
    const policy = withShareLinks(inner);
    const linkSubject: Subject = { authenticated: false, id: null, claims: {}, via: 'share-link', share: { ...grant, key: 'a/b.txt' } };
    assert.equal((await policy.decide(req('a/b.txt'), linkSubject)).effect, 'allow');
    // Inside its scope the link is worth what its creator may do now: share and read the concrete key.
    assert.deepEqual(calls, ['alice:share:a/b.txt', 'alice:read:a/b.txt']);
    calls.length = 0;
    const outside = await policy.decide(req('a/c.txt'), linkSubject);
    assert.equal(outside.effect, 'deny');
    assert.equal(outside.reason, 'outside share link l1');
    assert.deepEqual(calls, []);
    assert.equal((await policy.decide(req('a/c.txt'), { authenticated: true, id: 'x', claims: {} })).ruleId, 'inner');
  });

  it('a prefix link never outranks a deny below its prefix: every key is re-checked as the creator', async () => {
    const policy = withShareLinks(
      createRulePolicy([
        { id: 'no-locked', store: 'docs', key: 'alice/locked/*rest', effect: 'deny', actions: ['read', 'head', 'transform', 'share', 'write'], when: [] },
        { id: 'alice-own', store: 'docs', key: 'alice/*rest', effect: 'allow', actions: ['read', 'head', 'share'], when: [{ claim: 'sub', equals: 'alice' }] },
      ]),
    );
    const holder: Subject = { authenticated: false, id: null, claims: {}, via: 'share-link', share: { ...grant, prefix: 'alice' } };
    assert.equal((await policy.decide(req('alice/open.txt'), holder)).effect, 'allow');
    const locked = await policy.decide(req('alice/locked/l.txt'), holder);
    assert.equal(locked.effect, 'deny');
    assert.match(locked.reason, /creator may no longer share this key .*no-locked/);
    // The creator's claims decide, not the holder's: a snapshot without the right claim gets nothing.
    const stranger: Subject = { ...holder, share: { ...grant, prefix: 'alice', creator: { authenticated: true, id: 'mallory', claims: { sub: 'mallory' } } } };
    assert.equal((await policy.decide(req('alice/open.txt'), stranger)).effect, 'deny');
  });

  it('an offline-signed link (no creator) is judged by its scope alone', async () => {
    const policy = withShareLinks(createRulePolicy([]));
    const holder: Subject = { authenticated: false, id: null, claims: {}, via: 'share-link', share: { ...grant, key: 'a/b.txt', creator: null } };
    assert.equal((await policy.decide(req('a/b.txt'), holder)).effect, 'allow');
    assert.equal((await policy.decide(req('a/c.txt'), holder)).effect, 'deny');
  });
});

describe('mint requests', () => {
  it('validates the body and the expiry limit', () => {
    const ok = parseMintRequest({ store: 'docs', key: 'a/b', expiresIn: 60 }, 3600);
    assert.equal(ok.key, 'a/b');
    for (const [body, reason] of [
      [{ store: 'docs', key: 'a', prefix: 'b', expiresIn: 60 }, /exactly one of key and prefix/],
      [{ store: 'docs', expiresIn: 60 }, /exactly one of key and prefix/],
      [{ store: 'docs', key: 'a', expiresIn: 3601 }, /at most 3600/],
      [{ store: 'docs', key: 'a', expiresIn: 0 }, /expiresIn/],
      [{ store: 'docs', key: 'a', expiresIn: 60, maxDownloads: 0 }, /maxDownloads/],
      [{ store: 'docs', key: 'a', expiresIn: 60, extra: 1 }, /extra|Unrecognized/],
      ['not an object', /body|expected/],
    ] as const) {
      assert.throws(
        () => parseMintRequest(body, 3600),
        (e: PublicError) => e.status === 400 && reason.test(e.reason),
      );
    }
  });

  it('holds keys to the download rules', () => {
    assert.equal(keyFromText('reports/2024 q1 ü.pdf').value, 'reports/2024 q1 ü.pdf');
    for (const bad of ['a/../b', 'a//b', '/a', 'a/./b', 'a\\b', 'a/\u0000']) {
      assert.throws(
        () => keyFromText(bad),
        (e: PublicError) => e.status === 400,
        bad,
      );
    }
  });

  it('asks the share decision for "<prefix>/*" when sharing a folder', () => {
    const scope = linkScope(parseMintRequest({ store: 'docs', prefix: 'users/alice/', expiresIn: 60 }, 60));
    assert.equal(scope.prefix?.value, 'users/alice');
    assert.equal(scope.decisionKey.value, 'users/alice/*');
  });
});
