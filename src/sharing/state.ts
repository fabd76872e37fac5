// What sharing remembers between requests: who minted a link, revocations, download counts.
// One implementation over the key-value state (kv-state.ts): Redis (shared by every app instance)
// or memory (one instance only).
import { PublicError } from '../errors.js';

/** Kept per minted link until it expires: its creator can revoke it by id, and every use is
 * re-checked against the policy as the creator (their claims at minting time). Kept in the
 * state, never in the link, so a holder never reads the creator's claims. */
export interface LinkRecord {
  readonly createdBy: string | null;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
  /** The creator's verified token claims when minting (absent in records of older versions:
   * such links are then judged with no claims, which can only deny more). */
  readonly claims?: Readonly<Record<string, unknown>>;
}

/** Whether a link may be used now: its record, or why not. */
export type LinkStanding =
  | { readonly status: 'in-force'; readonly record: LinkRecord }
  /** Revoked by id, with all links of its creator, or with the creator's token (jti). */
  | { readonly status: 'revoked' }
  /** No record: minted elsewhere or the state was lost. Without one the creator cannot be re-checked. */
  | { readonly status: 'unknown' };

/** The parts of a link that revocation looks at. */
export interface RevocableLink {
  readonly id: string;
  readonly createdBy?: string | undefined;
  readonly issuedAt: number;
}

/** All times are seconds since the epoch; an entry is kept until `expiresAt`, then forgotten. */
export interface SharingState {
  /** True when every app instance sees the same state (Redis). */
  readonly shared: boolean;
  recordLink(id: string, record: LinkRecord): Promise<void>;
  linkRecord(id: string): Promise<LinkRecord | null>;
  revokeLink(id: string, expiresAt: number): Promise<void>;
  /** Revokes every link `subject` minted at or before `at`. */
  revokeSubjectLinks(subject: string, at: number, expiresAt: number): Promise<void>;
  /** One read of everything a link's use depends on: its record and every kind of revocation. */
  linkStanding(link: RevocableLink): Promise<LinkStanding>;
  revokeToken(jti: string, expiresAt: number): Promise<void>;
  isTokenRevoked(jti: string): Promise<boolean>;
  /** Counts one download of a counted link; false when none was left. */
  countDownload(id: string, maxDownloads: number, expiresAt: number): Promise<boolean>;
  downloadsUsed(id: string): Promise<number>;
}

/** Revocations of links and tokens are kept at most this long (ten years): an absurd token `exp`
 * (1e300) must not overflow the store's expiry. Bound token lifetimes with auth.maxTokenLifetimeSeconds. */
export const MAX_REVOCATION_SECONDS = 10 * 366 * 86_400;

/** The expiry to store a revocation with: `expiresAt`, capped at MAX_REVOCATION_SECONDS from now. */
export function revocationExpiry(expiresAt: number, nowSeconds: number): number {
  return Math.min(expiresAt, nowSeconds + MAX_REVOCATION_SECONDS);
}

/** The standing of a link from the entries the state read (shared by both implementations). */
export function standingOf(
  link: RevocableLink,
  entries: { record: LinkRecord | null; revokedById: boolean; subjectRevokedAt: number | null; tokenRevoked: boolean },
): LinkStanding {
  if (entries.revokedById || entries.tokenRevoked) return { status: 'revoked' };
  if (entries.subjectRevokedAt !== null && link.issuedAt <= entries.subjectRevokedAt) return { status: 'revoked' };
  return entries.record === null ? { status: 'unknown' } : { status: 'in-force', record: entries.record };
}

/** The jti of the token a link was minted with, when its record has one. */
export function creatorJti(record: LinkRecord | null): string | null {
  const jti = record?.claims?.jti;
  return typeof jti === 'string' && jti !== '' ? jti : null;
}

/** Shared state could not be read or written: fail closed, the caller may retry. */
export function stateUnavailable(cause?: unknown): PublicError {
  return new PublicError(503, 'sharing state unavailable', { 'Retry-After': '5' }, cause);
}

/** Counted links need a count every instance agrees on. */
export function countingUnavailable(): PublicError {
  return new PublicError(503, 'download counting unavailable (no shared state configured)');
}
