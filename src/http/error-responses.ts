// The one place where errors become responses: a status and a short reason, never a stack.
import type { Context, Next } from 'koa';
import { PublicError } from '../errors.js';
import type { Logger } from '../observability/logger.js';

const GENERIC_REASONS: Record<number, string> = {
  400: 'bad request',
  401: 'authentication required',
  403: 'forbidden',
  404: 'not found',
  405: 'method not allowed',
  413: 'payload too large',
  415: 'unsupported media type',
  429: 'too many requests',
  500: 'internal error',
  502: 'storage error',
  503: 'service unavailable',
};

export function errorResponses(logger: Logger) {
  return async function errorResponsesMiddleware(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) respond(ctx, 404, GENERIC_REASONS[404] as string, {});
    } catch (error) {
      if (error instanceof PublicError) {
        if (error.status >= 500) logger.warn({ cause: summarize(error.cause), requestId: ctx.state.requestId, status: error.status }, error.reason);
        respond(ctx, error.status, error.reason, error.headers);
        return;
      }
      // Koa/router HttpErrors that are meant to be exposed (e.g. 405) keep their status.
      const status = httpStatusOf(error);
      if (status !== undefined && status < 500) {
        respond(ctx, status, GENERIC_REASONS[status] ?? 'bad request', {});
        return;
      }
      logger.error({ err: error, requestId: ctx.state.requestId }, 'unhandled error');
      respond(ctx, 500, 'internal error', {});
    }
  };
}

function respond(ctx: Context, status: number, reason: string, headers: Readonly<Record<string, string>>): void {
  // Headers prepared for a success (X-Accel-Redirect, disposition) must not leak into an error.
  for (const name of Object.keys(ctx.response.headers)) {
    if (name !== 'x-request-id') ctx.remove(name);
  }
  ctx.status = status;
  ctx.set(headers);
  ctx.set('Cache-Control', 'no-store');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.body = { error: reason };
}

/**
 * Name, code and message only: SDK errors carry request objects (headers, signed URLs) that
 * must never reach a log.
 */
function summarize(cause: unknown): Record<string, unknown> | undefined {
  if (!(cause instanceof Error)) return cause === undefined ? undefined : { value: String(cause) };
  const { code, $metadata } = cause as { code?: unknown; $metadata?: { httpStatusCode?: unknown } };
  return { name: cause.name, message: cause.message, code, httpStatus: $metadata?.httpStatusCode };
}

function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const candidate = (error as { status?: unknown; expose?: unknown }).status;
  return typeof candidate === 'number' && candidate >= 400 && candidate < 600 ? candidate : undefined;
}
