// The render deadline. Every sharp pipeline of a render gets libvips' own timeout for the time
// left, so an expensive operation (a huge blur) really stops instead of running on after the
// worker answered 503. Carried in AsyncLocalStorage so each step's sharp instance picks it up
// without threading it through every function; outside a render nothing is limited.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Sharp } from 'sharp';
import { PublicError } from '../../errors.js';

const deadlines = new AsyncLocalStorage<number>();

export const renderTimedOut = (cause?: unknown): PublicError => new PublicError(503, 'processing timed out', {}, cause);

/** Runs `work` with every sharp pipeline inside it bounded by `deadlineMs` (Date.now() scale). */
export function withRenderDeadline<T>(deadlineMs: number, work: () => Promise<T>): Promise<T> {
  return deadlines.run(deadlineMs, work);
}

/** Milliseconds left in the current render (Infinity outside one). */
export function remainingMs(now: number = Date.now()): number {
  const deadline = deadlines.getStore();
  return deadline === undefined ? Number.POSITIVE_INFINITY : deadline - now;
}

/** Throws 503 when the render's time is up: checked before starting another step. */
export function assertTimeLeft(): void {
  if (remainingMs() <= 0) throw renderTimedOut();
}

/**
 * `image` with libvips' timeout set to the time left. sharp counts whole seconds (and checks
 * on each tile it computes), so a step may overrun the deadline by up to about a second.
 */
export function bounded(image: Sharp): Sharp {
  const left = remainingMs();
  if (left === Number.POSITIVE_INFINITY) return image;
  if (left <= 0) throw renderTimedOut();
  return image.timeout({ seconds: Math.max(1, Math.ceil(left / 1000)) });
}

/** libvips' message when its timeout killed a pipeline ("timeout: 6% complete"). */
export function isVipsTimeout(error: unknown): boolean {
  return error instanceof Error && /^timeout: \d+% complete/m.test(error.message);
}
