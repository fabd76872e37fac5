// Bounded concurrency with a bounded queue: at most `concurrency` images in flight, at most
// `queueSize` waiting; anything beyond is refused at once (429) instead of piling up in memory.
import { PublicError } from '../../errors.js';

export interface LimiterOptions {
  readonly concurrency: number;
  readonly queueSize: number;
  /** Sent as Retry-After with the 429. */
  readonly retryAfterSeconds: number;
}

export interface Limiter {
  /**
   * Runs `task` when a slot is free; throws PublicError(429) when the queue is full. A waiter
   * whose `signal` aborts (the client went away) leaves the queue without running.
   */
  run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  readonly active: number;
  readonly waiting: number;
}

export function createLimiter(options: LimiterOptions): Limiter {
  let active = 0;
  const queue: (() => void)[] = [];

  const release = (): void => {
    const next = queue.shift();
    if (next === undefined) active -= 1;
    else next(); // the slot passes straight to the next waiter
  };

  const wait = (signal: AbortSignal | undefined): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted === true) {
        reject(new PublicError(499, 'client closed request'));
        return;
      }
      const onAbort = (): void => {
        const index = queue.indexOf(admit);
        if (index >= 0) queue.splice(index, 1);
        reject(new PublicError(499, 'client closed request'));
      };
      const admit = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      queue.push(admit);
      signal?.addEventListener('abort', onAbort, { once: true });
    });

  return {
    get active() {
      return active;
    },
    get waiting() {
      return queue.length;
    },
    async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
      if (active < options.concurrency) {
        active += 1;
      } else if (queue.length >= options.queueSize) {
        throw new PublicError(429, 'too many requests', { 'Retry-After': String(options.retryAfterSeconds) });
      } else {
        await wait(signal);
      }
      try {
        return await task();
      } finally {
        release();
      }
    },
  };
}
