import type { Context } from 'koa';
import { PublicError } from '../errors.js';

/** Reads a small JSON request body with a hard size limit (413), type check (415) and 400 on bad JSON. */
export async function readJsonBody(ctx: Context, maxBytes: number): Promise<unknown> {
  if (!ctx.is('application/json')) throw new PublicError(415, 'expected application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new PublicError(413, 'payload too large');
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new PublicError(400, 'invalid JSON');
  }
}
