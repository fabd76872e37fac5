// Sharing state in Redis, seen by every app instance. Every entry expires with the link or
// token it is about (SET … EXAT), so Redis never accumulates dead revocations. Any Redis
// failure is a 503: revocations and counts fail CLOSED.
import type { Redis } from '../state/redis.js';
import { creatorJti, revocationExpiry, standingOf, stateUnavailable, type LinkRecord, type RevocableLink, type SharingState } from './state.js';

const PREFIX = 'sluice:share:';

/** INCR and, on the first use, expire with the link; atomic, so concurrent downloads on any
 * instance can never both take the last use. */
const COUNT_SCRIPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIREAT', KEYS[1], ARGV[2]) end
if n > tonumber(ARGV[1]) then return 0 end
return 1`;

export function createRedisSharingState(redis: Redis, now: () => number = Date.now): SharingState {
  const guarded = async <T>(operation: () => Promise<T>): Promise<T> => {
    try {
      return await operation();
    } catch (error) {
      throw stateUnavailable(error);
    }
  };
  const put = async (key: string, value: string, expiresAt: number): Promise<void> => {
    if (expiresAt <= now() / 1000) return;
    await guarded(() => redis.set(PREFIX + key, value, 'EXAT', Math.ceil(revocationExpiry(expiresAt, now() / 1000))));
  };

  return {
    shared: true,
    async recordLink(id: string, record: LinkRecord) {
      await put(`link:${id}`, JSON.stringify(record), record.expiresAt);
    },
    async linkRecord(id: string) {
      return recordOf(await guarded(() => redis.get(`${PREFIX}link:${id}`)));
    },
    async revokeLink(id: string, expiresAt: number) {
      await put(`revoked-link:${id}`, '1', expiresAt);
    },
    async revokeSubjectLinks(subject: string, at: number, expiresAt: number) {
      await put(`revoked-links-of:${subject}`, String(at), expiresAt);
    },
    async linkStanding(link: RevocableLink) {
      const keys = [`${PREFIX}link:${link.id}`, `${PREFIX}revoked-link:${link.id}`];
      if (link.createdBy !== undefined) keys.push(`${PREFIX}revoked-links-of:${link.createdBy}`);
      const [recordValue, byId, subjectAt] = await guarded(() => redis.mget(...keys));
      const record = recordOf(recordValue ?? null);
      // The creator's token jti is only known from the record: a second round trip, only then.
      const jti = creatorJti(record);
      const tokenRevoked = jti !== null && (await guarded(() => redis.exists(`${PREFIX}revoked-token:${jti}`))) === 1;
      return standingOf(link, {
        record,
        revokedById: byId !== null && byId !== undefined,
        subjectRevokedAt: subjectAt === null || subjectAt === undefined ? null : Number(subjectAt),
        tokenRevoked,
      });
    },
    async revokeToken(jti: string, expiresAt: number) {
      await put(`revoked-token:${jti}`, '1', expiresAt);
    },
    async isTokenRevoked(jti: string) {
      return (await guarded(() => redis.exists(`${PREFIX}revoked-token:${jti}`))) === 1;
    },
    async countDownload(id: string, maxDownloads: number, expiresAt: number) {
      const allowed = await guarded(() => redis.eval(COUNT_SCRIPT, 1, `${PREFIX}uses:${id}`, maxDownloads, Math.ceil(expiresAt)));
      return allowed === 1;
    },
    async downloadsUsed(id: string) {
      return Number((await guarded(() => redis.get(`${PREFIX}uses:${id}`))) ?? 0);
    },
  };
}

function recordOf(value: string | null): LinkRecord | null {
  return value === null ? null : (JSON.parse(value) as LinkRecord);
}
