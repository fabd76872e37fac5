// Share links API (JSON), next to the downloads: <prefix>/_share (store names cannot start
// with "_", so no store can shadow it).
//   POST   <prefix>/_share                    mint a link (policy action `share` on the key)
//   DELETE <prefix>/_share/links/<id>         revoke one link (its creator, or an admin)
//   DELETE <prefix>/_share/subjects/<sub>     revoke every link <sub> minted so far (self, or an admin)
//   DELETE <prefix>/_share/tokens/<jti>       revoke a bearer token before it expires (own token, or an admin)
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { authenticationRequired, notFound, PublicError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { AdminCheck } from '../../sharing/admin.js';
import type { LinkKeyRing } from '../../sharing/link-token.js';
import { linkScope, mintLink, parseMintRequest, type LinkScope, type MintRequest } from '../../sharing/mint.js';
import type { SharingState } from '../../sharing/state.js';
import type { Store } from '../../storage/types.js';
import { optional, type AccessPipelineDeps, type AccessState } from '../middleware/access-state.js';
import { authenticate, tokenCredentials } from '../middleware/authenticate.js';
import { authorize } from '../middleware/authorize.js';
import { readJsonBody } from '../json-body.js';

export interface ShareRouteDeps extends AccessPipelineDeps {
  readonly prefix: string;
  readonly stores: ReadonlyMap<string, Store>;
  readonly ring: LinkKeyRing;
  readonly state: SharingState;
  readonly maxExpiresInSeconds: number;
  /** How long an admin's revocation of someone else's token jti is kept. */
  readonly tokenRevocationSeconds: number;
  readonly isAdmin: AdminCheck;
  readonly now?: () => number;
}

interface MintState extends AccessState {
  mint: { request: MintRequest; scope: LinkScope };
}

const MAX_BODY_BYTES = 8192;

export function shareRoutes(deps: ShareRouteDeps): Router {
  const base = `${deps.prefix}/_share`;
  const now = deps.now ?? Date.now;
  // Managing links takes a real token: a share link never authenticates these calls.
  const caller = [authenticate(deps.authenticator, tokenCredentials), requireToken, ...optional(deps.rateLimit)];
  const router = new Router();

  router.post(base, ...caller, requireSubject, parseMint(deps), authorize(deps), async (ctx: Context) => {
    const { mint, subject } = ctx.state as MintState;
    const { token, claims } = await mintLink({ ring: deps.ring, state: deps.state, now }, mint.request, mint.scope, subject);
    const url =
      mint.scope.key === undefined ? undefined : `${deps.prefix}/${claims.store}/${mint.scope.key.segments.map(encodeURIComponent).join('/')}?share=${token}`;
    ctx.status = 201;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { id: claims.id, token, ...(url === undefined ? {} : { url }), expiresAt: new Date(claims.expiresAt * 1000).toISOString() };
  });

  router.delete(`${base}/links/:id`, ...caller, async (ctx: Context) => {
    const { subject } = ctx.state as AccessState;
    const id = ctx.params.id as string;
    const record = await deps.state.linkRecord(id);
    const admin = deps.isAdmin(subject);
    // Someone else's link, or none at all: the same answer, so ids cannot be probed.
    if (!admin && (record === null || record.createdBy === null || record.createdBy !== subject.id)) throw notFound('unknown link');
    await deps.state.revokeLink(id, record?.expiresAt ?? now() / 1000 + deps.maxExpiresInSeconds);
    revoked(ctx, deps.logger, 'link', id);
  });

  router.delete(`${base}/subjects/:subject`, ...caller, async (ctx: Context) => {
    const { subject } = ctx.state as AccessState;
    const target = ctx.params.subject as string;
    if (target !== subject.id && !deps.isAdmin(subject)) throw new PublicError(403, 'forbidden');
    const at = now() / 1000;
    // No link outlives maxExpiresInSeconds, so neither does this revocation.
    await deps.state.revokeSubjectLinks(target, at, at + deps.maxExpiresInSeconds);
    revoked(ctx, deps.logger, 'subject-links', target);
  });

  router.delete(`${base}/tokens/:jti`, ...caller, async (ctx: Context) => {
    const { subject } = ctx.state as AccessState;
    const jti = ctx.params.jti as string;
    const own = subject.claims.jti === jti && typeof subject.claims.exp === 'number';
    if (!own && !deps.isAdmin(subject)) throw new PublicError(403, 'forbidden');
    const at = now() / 1000;
    // Kept while the token or any link minted with it could still be used (the state caps absurd values).
    const tokenLife = own ? (subject.claims.exp as number) : at + deps.tokenRevocationSeconds;
    await deps.state.revokeToken(jti, Math.max(tokenLife, at + deps.maxExpiresInSeconds));
    revoked(ctx, deps.logger, 'token', jti);
  });

  return router;
}

async function requireToken(ctx: Context, next: Next): Promise<void> {
  if (!(ctx.state as AccessState).subject.authenticated) {
    throw authenticationRequired();
  }
  await next();
}

/** Links are re-checked as their creator and revoked per subject: both need the token's `sub`. */
async function requireSubject(ctx: Context, next: Next): Promise<void> {
  if ((ctx.state as AccessState).subject.id === null) throw new PublicError(403, 'sharing needs a token with a subject (sub)');
  await next();
}

/** Body → mint request → the store, key and action the `share` decision is about. */
function parseMint(deps: ShareRouteDeps) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const request = parseMintRequest(await readJsonBody(ctx, MAX_BODY_BYTES), deps.maxExpiresInSeconds);
    const store = deps.stores.get(request.store);
    if (store === undefined) throw notFound('unknown store');
    const scope = linkScope(request);
    const state = ctx.state as MintState;
    state.store = store;
    state.key = scope.decisionKey;
    state.action = 'share';
    state.mint = { request, scope };
    await next();
  };
}

function revoked(ctx: Context, logger: Logger, kind: string, id: string): void {
  const { subject, requestId } = ctx.state as AccessState;
  logger.info({ revocation: { requestId, kind, id, by: subject.id } }, 'revoked');
  ctx.status = 204;
  ctx.set('Cache-Control', 'no-store');
}
