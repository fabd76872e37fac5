import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Context } from 'koa';
import type { Authenticator, Credentials, Subject } from '../../src/auth/types.js';
import { validateConfig } from '../../src/config/load.js';
import { PublicError } from '../../src/errors.js';
import { renderAccessLocations } from '../../src/nginx/render-auth-request.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { createRulePolicy } from '../../src/policy/rule-policy.js';
import { createAccessControl } from '../../src/http/access-control.js';
import { adminCheck } from '../../src/sharing/admin.js';
import { createSharingAuthenticator } from '../../src/sharing/authenticator.js';
import { countShareLinkUse } from '../../src/http/middleware/count-share-link-use.js';
import { createLinkKeyRing, type NewLink } from '../../src/sharing/link-token.js';
import { createMemorySharingState } from '../../src/sharing/memory-state.js';
import { memoryState } from '../../src/state/shared-state.js';
import { createStores } from '../../src/storage/registry.js';
import { statusOf } from '../helpers/public-error.js';

const KEY = { kid: 'k1', secret: 'unit-access-secret-0123456789abcdef' };
const T0 = Date.UTC(2030, 0, 1);

/** Bearer "user:<sub>[:<jti>]" stands for a verified token; anything else is rejected. */
const tokens: Authenticator = {
  async authenticate(credentials: Credentials): Promise<Subject> {
    const value = credentials.authorization;
    if (value === undefined) return { authenticated: false, id: null, claims: {} };
    const [kind, sub, jti] = value.split(':');
    if (kind !== 'user' || sub === undefined) throw new PublicError(401, 'invalid token');
    return { authenticated: true, id: sub, claims: { sub, ...(jti === undefined ? {} : { jti }), exp: T0 / 1000 + 3600 } };
  },
};

describe('memory sharing state', () => {
  const record = { createdBy: 'alice', expiresAt: T0 / 1000 + 10 };
  const standing = async (state: ReturnType<typeof createMemorySharingState>, link: { id: string; createdBy?: string; issuedAt: number }) =>
    (await state.linkStanding(link)).status;

  it('forgets revocations when what they are about has expired', async () => {
    let now = T0;
    const state = createMemorySharingState(() => now);
    await state.recordLink('l1', { ...record, expiresAt: T0 / 1000 + 20 });
    await state.revokeToken('j1', T0 / 1000 + 10);
    await state.revokeLink('l1', T0 / 1000 + 10);
    await state.revokeToken('already-expired', T0 / 1000 - 1);
    assert.equal(await state.isTokenRevoked('j1'), true);
    assert.equal(await state.isTokenRevoked('already-expired'), false);
    assert.equal(await standing(state, { id: 'l1', issuedAt: 0 }), 'revoked');
    now = T0 + 10_000;
    assert.equal(await state.isTokenRevoked('j1'), false);
    assert.equal(await standing(state, { id: 'l1', issuedAt: 0 }), 'in-force');
  });

  it('revokes the links a subject minted up to the revocation, not after', async () => {
    const state = createMemorySharingState(() => T0);
    for (const id of ['a', 'b', 'c']) await state.recordLink(id, record);
    await state.revokeSubjectLinks('alice', T0 / 1000, T0 / 1000 + 60);
    assert.equal(await standing(state, { id: 'a', createdBy: 'alice', issuedAt: T0 / 1000 - 0.001 }), 'revoked');
    assert.equal(await standing(state, { id: 'b', createdBy: 'alice', issuedAt: T0 / 1000 + 0.001 }), 'in-force');
    assert.equal(await standing(state, { id: 'c', createdBy: 'bob', issuedAt: 0 }), 'in-force');
  });

  it('revokes the links minted with a token when that token (jti) is revoked', async () => {
    const state = createMemorySharingState(() => T0);
    await state.recordLink('a', { ...record, claims: { sub: 'alice', jti: 'j-alice' } });
    await state.recordLink('b', { ...record, claims: { sub: 'alice', jti: 'j-other' } });
    await state.revokeToken('j-alice', T0 / 1000 + 60);
    assert.equal(await standing(state, { id: 'a', createdBy: 'alice', issuedAt: 0 }), 'revoked');
    assert.equal(await standing(state, { id: 'b', createdBy: 'alice', issuedAt: 0 }), 'in-force');
  });

  it('knows no link it has no record of: the creator could not be re-checked', async () => {
    const state = createMemorySharingState(() => T0);
    assert.equal(await standing(state, { id: 'never-minted', issuedAt: 0 }), 'unknown');
  });

  it('caps an absurd revocation expiry instead of failing', async () => {
    const state = createMemorySharingState(() => T0);
    await state.revokeToken('forever', 1e300);
    assert.equal(await state.isTokenRevoked('forever'), true);
  });

  it('refuses to count downloads (503): a per-instance count would not be one-time', async () => {
    const state = createMemorySharingState();
    assert.equal(await statusOf(state.countDownload('l', 1, T0 / 1000 + 60)), 503);
    assert.equal(await statusOf(state.downloadsUsed('l')), 503);
  });
});

describe('sharing authenticator', () => {
  const setup = () => {
    const state = createMemorySharingState(() => T0);
    const ring = createLinkKeyRing([KEY], () => T0);
    // As minting does: sign, then record the creator for the re-check at every use.
    const sign = async (link: NewLink) => {
      const signed = await ring.sign(link);
      await state.recordLink(signed.claims.id, { createdBy: link.createdBy ?? null, expiresAt: link.expiresAt, claims: { sub: link.createdBy } });
      return signed;
    };
    return { state, ring, sign, auth: createSharingAuthenticator({ tokens, links: ring, state }) };
  };

  it('refuses a revoked token jti, and only that one', async () => {
    const { state, auth } = setup();
    await state.revokeToken('j1', T0 / 1000 + 60);
    assert.equal(await statusOf(auth.authenticate({ authorization: 'user:alice:j1' })), 401);
    assert.equal((await auth.authenticate({ authorization: 'user:alice:j2' })).id, 'alice');
    assert.equal((await auth.authenticate({ authorization: 'user:alice' })).id, 'alice');
  });

  it('turns an unbound link into an anonymous holder with the grant and its creator', async () => {
    const { sign, auth } = setup();
    const { token, claims } = await sign({ store: 'docs', key: 'a.txt', expiresAt: T0 / 1000 + 60, createdBy: 'alice' });
    const subject = await auth.authenticate({ shareToken: token });
    assert.equal(subject.authenticated, false);
    assert.equal(subject.id, null);
    assert.equal(subject.via, 'share-link');
    assert.deepEqual(subject.share, {
      linkId: claims.id,
      store: 'docs',
      key: 'a.txt',
      expiresAt: T0 / 1000 + 60,
      creator: { authenticated: true, id: 'alice', claims: { sub: 'alice' } },
    });
  });

  it('refuses (410) a link minted through the API (it names its creator) that the state has no record of', async () => {
    const { ring, auth } = setup();
    const { token } = await ring.sign({ store: 'docs', key: 'a.txt', expiresAt: T0 / 1000 + 60, createdBy: 'alice' });
    assert.equal(await statusOf(auth.authenticate({ shareToken: token })), 410);
  });

  it('accepts a link signed offline with a sharing key (no creator, no record): its scope is all it has', async () => {
    const { state, ring, auth } = setup();
    const { token, claims } = await ring.sign({ store: 'docs', key: 'a.txt', expiresAt: T0 / 1000 + 60 });
    const subject = await auth.authenticate({ shareToken: token });
    assert.equal(subject.share?.creator, null);
    await state.revokeLink(claims.id, claims.expiresAt);
    assert.equal(await statusOf(auth.authenticate({ shareToken: token })), 410);
  });

  it('a bound link needs the bound subject’s valid token', async () => {
    const { state, sign, auth } = setup();
    const { token } = await sign({ store: 'docs', key: 'a.txt', expiresAt: T0 / 1000 + 60, boundTo: 'bob' });
    assert.equal(await statusOf(auth.authenticate({ shareToken: token })), 401);
    assert.equal(await statusOf(auth.authenticate({ shareToken: token, authorization: 'user:carol' })), 403);
    assert.equal(await statusOf(auth.authenticate({ shareToken: token, authorization: 'bad' })), 401);
    const bob = await auth.authenticate({ shareToken: token, authorization: 'user:bob:jb' });
    assert.equal(bob.id, 'bob');
    assert.equal(bob.via, 'share-link');
    await state.revokeToken('jb', T0 / 1000 + 60);
    assert.equal(await statusOf(auth.authenticate({ shareToken: token, authorization: 'user:bob:jb' })), 401);
  });

  it('answers 410 for a revoked link and 401 when no link keys are configured', async () => {
    const { state, sign, auth } = setup();
    const { token, claims } = await sign({ store: 'docs', key: 'a.txt', expiresAt: T0 / 1000 + 60 });
    await state.revokeLink(claims.id, claims.expiresAt);
    assert.equal(await statusOf(auth.authenticate({ shareToken: token })), 410);
    const keyless = createSharingAuthenticator({ tokens, links: null, state });
    assert.equal(await statusOf(keyless.authenticate({ shareToken: token })), 401);
  });
});

describe('counted links', () => {
  it('are refused without shared state, before anything is delivered', async () => {
    const middleware = countShareLinkUse(createMemorySharingState());
    const subject: Subject = {
      authenticated: false,
      id: null,
      claims: {},
      via: 'share-link',
      share: { linkId: 'l', store: 'docs', key: 'a', maxDownloads: 1, expiresAt: T0 / 1000, creator: { authenticated: true, id: 'alice', claims: {} } },
    };
    let delivered = false;
    const ctx = { state: { subject, action: 'read' } } as unknown as Context;
    assert.equal(await statusOf(middleware(ctx, async () => void (delivered = true))), 503);
    assert.equal(delivered, false);
    const unlimited = { state: { subject: { ...subject, share: { ...subject.share, maxDownloads: undefined } }, action: 'read' } } as unknown as Context;
    await middleware(unlimited, async () => void (delivered = true));
    assert.equal(delivered, true);
  });
});

describe('admin check', () => {
  it('matches an array member, a string or a scope word; never a link holder', () => {
    const isAdmin = adminCheck({ claim: 'realm.roles', value: 'sluice-admin' });
    const with_ = (claims: Record<string, unknown>, extra: Partial<Subject> = {}): Subject => ({ authenticated: true, id: 'x', claims, ...extra });
    assert.ok(isAdmin(with_({ realm: { roles: ['a', 'sluice-admin'] } })));
    assert.ok(isAdmin(with_({ 'realm.roles': 'read sluice-admin' })));
    assert.equal(isAdmin(with_({ realm: { roles: ['sluice-admins'] } })), false);
    assert.equal(isAdmin(with_({ realm: { roles: ['sluice-admin'] } }, { via: 'share-link' })), false);
    assert.equal(adminCheck(undefined)(with_({ realm: { roles: ['sluice-admin'] } })), false);
  });
});

describe('access control start-up', () => {
  const base = { stores: { docs: { type: 'fs', root: '.' } }, logLevel: 'silent' };
  const start = async (raw: Record<string, unknown>) => {
    const config = validateConfig(raw);
    return createAccessControl(config, {
      state: memoryState(),
      logger: createLogger('silent'),
      metrics: createMetrics(),
      stores: await createStores(config),
      authenticator: tokens,
      policy: createRulePolicy([]),
    });
  };

  it('mounts routes only for what is configured', async () => {
    assert.equal((await start(base)).routes.length, 0);
    assert.equal((await start(base)).rateLimit, undefined);
    const full = await start({ ...base, sharing: { keys: [KEY], authRequest: { locations: { '/protected': 'docs' } }, rateLimit: { requestsPerSecond: 5 } } });
    assert.equal(full.routes.length, 2);
    assert.notEqual(full.rateLimit, undefined);
  });

  it('refuses bad settings at start-up, naming them', async () => {
    await assert.rejects(
      start({ ...base, sharing: { authRequest: { locations: { '/protected': 'nope' } } } }),
      /sharing\.authRequest\.locations\.\/protected.*unknown store "nope"/,
    );
    await assert.rejects(start({ ...base, sharing: { authRequest: { locations: { '/files/x': 'docs' } } } }), /overlaps \/files/);
    await assert.rejects(start({ ...base, sharing: { authRequest: { locations: { '/_sluice': 'docs' } } } }), /overlaps \/_sluice/);
    await assert.rejects(
      start({ ...base, auth: { keys: [{ algorithms: ['HS256'], secret: KEY.secret }] }, sharing: { keys: [KEY] } }),
      /sharing\.keys\.0\.secret.*must differ from every auth\.keys secret/,
    );
  });
});

describe('nginx locations for the access endpoints', () => {
  const base = { stores: { docs: { type: 'fs', root: '.' } } };

  it('renders nothing when nothing is configured', () => {
    assert.deepEqual(renderAccessLocations(validateConfig(base)), []);
  });

  it('renders an internal auth_request target that passes the raw request line', () => {
    const text = renderAccessLocations(validateConfig({ ...base, sharing: { authRequest: { locations: { '/protected': 'docs' } } } })).join('\n');
    assert.match(text, /location = \/_sluice\/auth \{\n {4}internal;/);
    assert.match(text, /proxy_set_header X-Original-URI \$request_uri;/);
    assert.match(text, /proxy_set_header X-Original-Method \$request_method;/);
    assert.match(text, /proxy_pass_request_body off;/);
    assert.doesNotMatch(text, /_share/);
  });

  it('renders the share API location when link keys are configured', () => {
    const text = renderAccessLocations(validateConfig({ ...base, prefix: '/dl', sharing: { keys: [KEY] } })).join('\n');
    assert.match(text, /location \^~ \/dl\/_share \{/);
    assert.match(text, /client_max_body_size 8k;/);
    assert.doesNotMatch(text, /auth_request|X-Original/);
  });
});
