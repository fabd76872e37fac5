// What sharing remembers between requests: who minted a link, revocations, download counts.
// Two implementations: Redis (shared by every app instance) and memory (one instance only).
import { PublicError } from '../errors.js';

/** Kept per minted link until it expires, so its creator can revoke it by id. */
export interface LinkRecord {
  readonly createdBy: string | null;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
}

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
  isLinkRevoked(link: RevocableLink): Promise<boolean>;
  revokeToken(jti: string, expiresAt: number): Promise<void>;
  isTokenRevoked(jti: string): Promise<boolean>;
  /** Counts one download of a counted link; false when none was left. */
  countDownload(id: string, maxDownloads: number, expiresAt: number): Promise<boolean>;
  downloadsUsed(id: string): Promise<number>;
}

/** Shared state could not be read or written: fail closed, the caller may retry. */
export function stateUnavailable(cause?: unknown): PublicError {
  return new PublicError(503, 'sharing state unavailable', { 'Retry-After': '5' }, cause);
}

/** Counted links need a count every instance agrees on. */
export function countingUnavailable(): PublicError {
  return new PublicError(503, 'download counting unavailable (no shared state configured)');
}
