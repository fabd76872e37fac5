// Bounded concurrency with a bounded queue: at most `concurrency` images in flight, at most
// `queueSize` waiting; anything beyond is refused at once (429) instead of piling up in memory.
// Per client (the ticket's `client`): at most `clientConcurrency` running and `clientQueueSize`
// waiting, and free slots go round-robin over the clients that wait, so one client flooding
// the worker delays another by at most one of its renders instead of its whole backlog.
import { PublicError } from '../../errors.js';

export interface LimiterOptions {
  readonly concurrency: number;
  readonly queueSize: number;
  /** Sent as Retry-After with the 429. */
  readonly retryAfterSeconds: number;
  /** Running jobs per client; default `concurrency` (no per-client bound). */
  readonly clientConcurrency?: number;
  /** Waiting jobs per client; default `queueSize`. */
  readonly clientQueueSize?: number;
  /** Told why a request was refused (metrics). */
  readonly onRefused?: (reason: RefusalReason) => void;
}

/** `queue_full`: the worker's queue; `client_busy`: this client's own share of it. */
export type RefusalReason = 'queue_full' | 'client_busy';

export interface Limiter {
  /**
   * Runs `task` when a slot is free for `client`; throws PublicError(429) when the queue (or the
   * client's share of it) is full. A waiter whose `signal` aborts (the client went away) leaves
   * the queue without running. The slot is held until `task` settles, even when its answer was
   * given up (a render past its deadline is stopped by libvips itself, not by the limiter).
   */
  run<T>(task: () => Promise<T>, signal?: AbortSignal, client?: string): Promise<T>;
  readonly active: number;
  readonly waiting: number;
}

const NO_CLIENT = '';

export function createLimiter(options: LimiterOptions): Limiter {
  const clientConcurrency = options.clientConcurrency ?? options.concurrency;
  const clientQueueSize = options.clientQueueSize ?? options.queueSize;
  let active = 0;
  let waitingTotal = 0;
  const running = new Map<string, number>();
  /** Waiters per client; Map order is the round-robin order (a served client moves to the back). */
  const waiting = new Map<string, (() => void)[]>();

  const start = (client: string): void => {
    active += 1;
    running.set(client, (running.get(client) ?? 0) + 1);
  };

  const dispatch = (): void => {
    while (active < options.concurrency) {
      let next: string | undefined;
      for (const client of waiting.keys()) {
        if ((running.get(client) ?? 0) < clientConcurrency) {
          next = client;
          break;
        }
      }
      if (next === undefined) return;
      const queue = waiting.get(next) as (() => void)[];
      const admit = queue.shift() as () => void;
      waiting.delete(next);
      if (queue.length > 0) waiting.set(next, queue); // to the back of the rotation
      waitingTotal -= 1;
      start(next);
      admit();
    }
  };

  const release = (client: string): void => {
    active -= 1;
    const left = (running.get(client) ?? 1) - 1;
    if (left === 0) running.delete(client);
    else running.set(client, left);
    dispatch();
  };

  const refuse = (reason: RefusalReason): PublicError => {
    options.onRefused?.(reason);
    return new PublicError(429, 'too many requests', { 'Retry-After': String(options.retryAfterSeconds) });
  };

  const wait = (signal: AbortSignal | undefined, client: string): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted === true) {
        reject(new PublicError(499, 'client closed request'));
        return;
      }
      const onAbort = (): void => {
        const queue = waiting.get(client);
        const index = queue?.indexOf(admit) ?? -1;
        if (queue !== undefined && index >= 0) {
          queue.splice(index, 1);
          waitingTotal -= 1;
          if (queue.length === 0) waiting.delete(client);
        }
        reject(new PublicError(499, 'client closed request'));
      };
      const admit = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const queue = waiting.get(client);
      if (queue === undefined) waiting.set(client, [admit]);
      else queue.push(admit);
      waitingTotal += 1;
      signal?.addEventListener('abort', onAbort, { once: true });
    });

  return {
    get active() {
      return active;
    },
    get waiting() {
      return waitingTotal;
    },
    async run<T>(task: () => Promise<T>, signal?: AbortSignal, client: string = NO_CLIENT): Promise<T> {
      const queued = waiting.get(client)?.length ?? 0;
      if (active < options.concurrency && (running.get(client) ?? 0) < clientConcurrency && queued === 0) {
        start(client);
      } else if (waitingTotal >= options.queueSize) {
        throw refuse('queue_full');
      } else if (queued >= clientQueueSize) {
        throw refuse('client_busy');
      } else {
        await wait(signal, client); // the slot was taken for us by dispatch()
      }
      try {
        return await task();
      } finally {
        release(client);
      }
    },
  };
}
