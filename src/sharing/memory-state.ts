// Sharing state in process memory: correct for ONE app instance only (revocations made on one
// instance are unknown to the others). Counted links are refused here: see countingUnavailable.
import { countingUnavailable, creatorJti, revocationExpiry, standingOf, type LinkRecord, type RevocableLink, type SharingState } from './state.js';

interface Entry {
  readonly value: string;
  readonly expiresAt: number;
}

/** Expired entries are swept once the map has grown by this many since the last sweep. */
const SWEEP_EVERY = 1024;

export function createMemorySharingState(now: () => number = Date.now): SharingState {
  const entries = new Map<string, Entry>();
  let sizeAtSweep = 0;
  const seconds = (): number => now() / 1000;

  const put = (key: string, value: string, expiresAt: number): void => {
    if (expiresAt <= seconds()) return;
    entries.set(key, { value, expiresAt: revocationExpiry(expiresAt, seconds()) });
    if (entries.size - sizeAtSweep >= SWEEP_EVERY) {
      const t = seconds();
      for (const [k, entry] of entries) if (entry.expiresAt <= t) entries.delete(k);
      sizeAtSweep = entries.size;
    }
  };
  const get = (key: string): string | null => {
    const entry = entries.get(key);
    if (entry === undefined) return null;
    if (entry.expiresAt > seconds()) return entry.value;
    entries.delete(key);
    return null;
  };

  return {
    shared: false,
    async recordLink(id: string, record: LinkRecord) {
      put(`link:${id}`, JSON.stringify(record), record.expiresAt);
    },
    async linkRecord(id: string) {
      return recordOf(get(`link:${id}`));
    },
    async revokeLink(id: string, expiresAt: number) {
      put(`revoked-link:${id}`, '1', expiresAt);
    },
    async revokeSubjectLinks(subject: string, at: number, expiresAt: number) {
      put(`revoked-links-of:${subject}`, String(at), expiresAt);
    },
    async linkStanding(link: RevocableLink) {
      const record = recordOf(get(`link:${link.id}`));
      const subjectAt = link.createdBy === undefined ? null : get(`revoked-links-of:${link.createdBy}`);
      const jti = creatorJti(record);
      return standingOf(link, {
        record,
        revokedById: get(`revoked-link:${link.id}`) !== null,
        subjectRevokedAt: subjectAt === null ? null : Number(subjectAt),
        tokenRevoked: jti !== null && get(`revoked-token:${jti}`) !== null,
      });
    },
    async revokeToken(jti: string, expiresAt: number) {
      put(`revoked-token:${jti}`, '1', expiresAt);
    },
    async isTokenRevoked(jti: string) {
      return get(`revoked-token:${jti}`) !== null;
    },
    async countDownload() {
      throw countingUnavailable();
    },
    async downloadsUsed() {
      throw countingUnavailable();
    },
  };
}

function recordOf(value: string | null): LinkRecord | null {
  return value === null ? null : (JSON.parse(value) as LinkRecord);
}
