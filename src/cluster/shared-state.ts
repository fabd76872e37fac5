// Which configured features keep state in process memory when no Redis is configured, and would
// therefore silently break with several app processes: each process would know only its own
// share-link records and revocations, hold its own rate-limit buckets (N × the limit) and its own
// write-once upload reservations. Refused at start-up instead. A plain config (downloads decided by
// rules, plugins or the webhook) keeps no such state: the decision cache per process only lowers
// the hit rate, never changes a decision beyond the configured TTL.
import { ConfigError, envNameFor } from '../config/errors.js';
import type { SluiceConfig } from '../config/schema.js';
import { hasSharedState } from '../state/settings.js';

interface SharedStateNeed {
  readonly key: string;
  readonly why: string;
}

/** The settings that need Redis once more than one app process runs (empty with redisUrl or redis set). */
export function sharedStateNeeds(config: SluiceConfig): SharedStateNeed[] {
  if (hasSharedState(config)) return [];
  const needs: SharedStateNeed[] = [];
  if (config.sharing.keys.length > 0) {
    needs.push({
      key: 'sharing.keys',
      why: 'share-link records, link and token revocations and counted links live in process memory: a link minted or revoked on one process would be unknown to the others',
    });
  }
  if (config.sharing.rateLimit !== undefined) {
    needs.push({ key: 'sharing.rateLimit', why: 'every process would keep its own buckets, multiplying the limit by the number of processes' });
  }
  if (config.uploads.enabled) {
    needs.push({
      key: 'uploads.enabled',
      why: 'write-once reservations and multipart records live in process memory: two processes could accept the same key',
    });
  }
  return needs;
}

/** Throws a ConfigError naming every such setting when `processes` > 1 and no Redis is configured. */
export function assertSharedState(config: SluiceConfig, processes: number): void {
  if (processes <= 1) return;
  const needs = sharedStateNeeds(config);
  if (needs.length === 0) return;
  const fix = `set redisUrl (${envNameFor(['redisUrl'])}) or redis (${envNameFor(['redis', 'url'])}, ${envNameFor(['redis', 'sentinels'])}, ${envNameFor(['redis', 'nodes'])}) or run one process`;
  throw new ConfigError(
    needs.map((need) => `${need.key} (${envNameFor(need.key.split('.'))}): with ${processes} processes and no redisUrl or redis, ${need.why}; ${fix}`),
  );
}
