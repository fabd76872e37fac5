// Decorates the bearer-token authenticator with share links (`?share=`) and token revocation.
import { invalidToken } from '../auth/token-source.js';
import { ANONYMOUS, type Authenticator, type Credentials, type Subject } from '../auth/types.js';
import { authenticationRequired, PublicError } from '../errors.js';
import { invalidLink, type LinkClaims, type LinkKeyRing } from './link-token.js';
import type { LinkRecord, SharingState } from './state.js';

export interface SharingAuthDeps {
  readonly tokens: Authenticator;
  /** null when no link keys are configured: every link is then invalid. */
  readonly links: LinkKeyRing | null;
  readonly state: SharingState;
}

export function createSharingAuthenticator(deps: SharingAuthDeps): Authenticator {
  const tokenSubject = async (credentials: Credentials): Promise<Subject> => {
    const subject = await deps.tokens.authenticate(credentials);
    const jti = subject.claims.jti;
    if (subject.authenticated && typeof jti === 'string' && (await deps.state.isTokenRevoked(jti))) throw invalidToken();
    return subject;
  };

  return {
    async authenticate(credentials: Credentials): Promise<Subject> {
      if (credentials.shareToken === undefined) return tokenSubject(credentials);
      if (deps.links === null) throw invalidLink();
      const link = await deps.links.verify(credentials.shareToken);
      const standing = await deps.state.linkStanding(link);
      if (standing.status === 'revoked') throw new PublicError(410, 'share link revoked');
      // The share API always records its links (and names their creator): without the record the
      // creator cannot be re-checked, so such a link is refused. Offline-signed links have neither.
      if (standing.status === 'unknown' && link.createdBy !== undefined) throw new PublicError(410, 'share link no longer valid');
      const creator = standing.status === 'in-force' ? creatorOf(link, standing.record) : null;
      if (link.boundTo === undefined) return linkSubject(link, creator, ANONYMOUS);
      const holder = await tokenSubject(credentials);
      if (!holder.authenticated) {
        throw authenticationRequired();
      }
      if (holder.id !== link.boundTo) throw new PublicError(403, 'share link is bound to another subject');
      return linkSubject(link, creator, holder);
    },
  };
}

/** The subject the policy is asked about at every use of the link. */
function creatorOf(link: LinkClaims, record: LinkRecord): Subject {
  return Object.freeze({
    authenticated: true,
    id: link.createdBy ?? record.createdBy,
    claims: Object.freeze({ ...(record.claims ?? {}) }),
  });
}

/**
 * An unbound link's holder stays anonymous (and a bound one keeps the holder's identity), so a
 * policy that does not know about links can never grant more than the caller has anyway.
 */
function linkSubject(link: LinkClaims, creator: Subject | null, holder: Subject): Subject {
  return Object.freeze({
    ...holder,
    via: 'share-link',
    share: Object.freeze({
      linkId: link.id,
      store: link.store,
      ...(link.key === undefined ? {} : { key: link.key }),
      ...(link.prefix === undefined ? {} : { prefix: link.prefix }),
      ...(link.maxDownloads === undefined ? {} : { maxDownloads: link.maxDownloads }),
      expiresAt: link.expiresAt,
      creator,
    }),
  });
}
