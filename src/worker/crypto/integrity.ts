// What the worker does when an encrypted object fails verification: one log line naming the
// store, key, chunk and reason (never bytes, never key material) and one count in
// sluice_worker_crypt_integrity_failures_total — for downloads and transform sources alike.
import type { Counter } from 'prom-client';
import type { Logger } from '../../observability/logger.js';
import type { IntegrityFailure } from '../../crypto/encrypted-object.js';

export const INTEGRITY_FAILURE_MESSAGE = 'stored object failed verification';

/** Every value of the metric's `reason` label. */
export const INTEGRITY_REASONS: readonly IntegrityFailure['reason'][] = ['header', 'size', 'authentication', 'truncated', 'trailing_data', 'unknown_key'];

export interface IntegrityContext {
  readonly requestId?: string;
  /** What was being served: a download (`read`) or a transform source. */
  readonly use: 'read' | 'transform-source';
  /** Whether response headers had already been sent (the download is then cut short). */
  readonly afterHeaders?: boolean;
}

export type IntegrityReporter = (failure: IntegrityFailure, context: IntegrityContext) => void;

export function createIntegrityReporter(logger: Logger, counter: Counter<'store' | 'reason'>): IntegrityReporter {
  return (failure, context) => {
    counter.inc({ store: failure.store, reason: failure.reason });
    logger.error(
      {
        integrity: {
          store: failure.store,
          key: failure.key,
          chunk: failure.chunk,
          reason: failure.reason,
          detail: failure.detail,
          ...(failure.keyId !== undefined && { keyId: failure.keyId }),
          use: context.use,
          ...(context.afterHeaders !== undefined && { afterHeaders: context.afterHeaders }),
        },
        ...(context.requestId !== undefined && { requestId: context.requestId }),
      },
      INTEGRITY_FAILURE_MESSAGE,
    );
  };
}

/** Zero series for every encrypted store, so alerts on increase() see the first failure. */
export function initIntegrityCounter(counter: Counter<'store' | 'reason'>, stores: readonly string[]): void {
  for (const store of stores) for (const reason of INTEGRITY_REASONS) counter.inc({ store, reason }, 0);
}
