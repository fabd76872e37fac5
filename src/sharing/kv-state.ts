// Sharing state over the key-value state (src/state): Redis, shared by every app instance, or
// memory, for one instance. Every entry expires with the link or token it is about. Any failure
// is a 503: revocations and counts fail CLOSED.
//
// Redis keys (prefix sluice:share:): link:<id>, revoked-link:<id>, revoked-links-of:<sub>,
// revoked-token:<jti>, uses:<id>. Each command names one key, so no hash tags are needed.
import type { KeyValueState } from '../state/kv.js';
import type { SharedState } from '../state/shared-state.js';
import {
  countingUnavailable,
  creatorJti,
  revocationExpiry,
  standingOf,
  stateUnavailable,
  type LinkRecord,
  type RevocableLink,
  type SharingState,
} from './state.js';

const PREFIX = 'sluice:share:';

/** In memory, link records beyond this many are forgotten (oldest use first): such a link is then refused, never wrongly let through. */
const MEMORY_MAX_RECORDS = 100_000;

export function createSharingState(state: SharedState, now: () => number = Date.now): SharingState {
  const records = state.space(PREFIX, { maxEntries: MEMORY_MAX_RECORDS });
  // A forgotten revocation would re-open access: never bounded by size, only by expiry (capped
  // by MAX_REVOCATION_SECONDS and, for tokens, auth.maxTokenLifetimeSeconds).
  const revocations = state.space(PREFIX, { maxEntries: null });
  const seconds = (): number => now() / 1000;
  const guarded = async <T>(operation: () => Promise<T>): Promise<T> => {
    try {
      return await operation();
    } catch (error) {
      throw stateUnavailable(error);
    }
  };
  /** Revocations must survive a failover: written durably (confirmed by replicas). */
  const revoke = async (key: string, value: string, expiresAt: number): Promise<void> => {
    if (expiresAt <= seconds()) return;
    await guarded(() => revocations.set(key, value, { at: revocationExpiry(expiresAt, seconds()) }, { durable: true }));
  };
  const read = (space: KeyValueState, key: string): Promise<string | null> => guarded(() => space.get(key));

  return {
    shared: state.shared,
    async recordLink(id: string, record: LinkRecord) {
      if (record.expiresAt <= seconds()) return;
      await guarded(() => records.set(`link:${id}`, JSON.stringify(record), { at: revocationExpiry(record.expiresAt, seconds()) }));
    },
    async linkRecord(id: string) {
      return recordOf(await read(records, `link:${id}`));
    },
    async revokeLink(id: string, expiresAt: number) {
      await revoke(`revoked-link:${id}`, '1', expiresAt);
    },
    async revokeSubjectLinks(subject: string, at: number, expiresAt: number) {
      await revoke(`revoked-links-of:${subject}`, String(at), expiresAt);
    },
    async linkStanding(link: RevocableLink) {
      // Sent together (one round trip on the connection); separate keys, separate slots.
      const [recordValue, byId, subjectAt] = await Promise.all([
        read(records, `link:${link.id}`),
        read(revocations, `revoked-link:${link.id}`),
        link.createdBy === undefined ? null : read(revocations, `revoked-links-of:${link.createdBy}`),
      ]);
      const record = recordOf(recordValue);
      // The creator's token jti is only known from the record: a second round trip, only then.
      const jti = creatorJti(record);
      const tokenRevoked = jti !== null && (await read(revocations, `revoked-token:${jti}`)) !== null;
      return standingOf(link, { record, revokedById: byId !== null, subjectRevokedAt: subjectAt === null ? null : Number(subjectAt), tokenRevoked });
    },
    async revokeToken(jti: string, expiresAt: number) {
      await revoke(`revoked-token:${jti}`, '1', expiresAt);
    },
    async isTokenRevoked(jti: string) {
      return (await read(revocations, `revoked-token:${jti}`)) !== null;
    },
    // Counted links need one count every instance agrees on: refused without shared state. A use
    // is durable, so a failover right after it cannot hand the same use out again.
    async countDownload(id: string, maxDownloads: number, expiresAt: number) {
      if (!records.shared) throw countingUnavailable();
      return guarded(() => records.incrementBelow(`uses:${id}`, maxDownloads, { at: expiresAt }, { durable: true }));
    },
    async downloadsUsed(id: string) {
      if (!records.shared) throw countingUnavailable();
      return guarded(() => records.counter(`uses:${id}`));
    },
  };
}

function recordOf(value: string | null): LinkRecord | null {
  return value === null ? null : (JSON.parse(value) as LinkRecord);
}
