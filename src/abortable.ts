// The one way Sluice stops waiting: an AbortSignal (AbortSignal.timeout for a deadline,
// AbortSignal.any to add "the client left") raced against the work.
import { once } from 'node:events';

/**
 * `work`'s outcome, or a rejection with `signal.reason` as soon as `signal` aborts, whichever
 * comes first. The work itself is not stopped: give it the same signal when it can be.
 */
export async function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  const settled = new AbortController();
  const aborted = once(signal, 'abort', { signal: settled.signal }).then(() => {
    throw signal.reason;
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    settled.abort(); // drops the listener (the race has already handled `aborted`'s rejection)
  }
}
