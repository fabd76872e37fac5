// Stream mode: the app moves the bytes itself and must then behave like nginx would —
// validators, conditional requests (304/412) and single byte ranges (206/416).
import { Transform, pipeline, type Readable } from 'node:stream';
import type { Context } from 'koa';
import fresh from 'fresh';
import parseRange from 'range-parser';
import { PublicError, notFound } from '../errors.js';
import type { ByteRange, CanonicalKey, Store } from '../storage/types.js';

interface Validators {
  readonly etag?: string;
  /** The Last-Modified header value (HTTP dates have one-second precision). */
  readonly lastModified?: string;
}

/** Content-Type, Content-Disposition and Cache-Control are the caller's; they are left alone. */
export async function deliverStream(ctx: Context, store: Store, key: CanonicalKey): Promise<void> {
  const info = await store.stat(key);
  if (info === null) throw notFound();

  const validators: Validators = {
    ...(info.etag !== undefined && { etag: info.etag }),
    ...(info.lastModified !== undefined && { lastModified: info.lastModified.toUTCString() }),
  };
  if (validators.etag !== undefined) ctx.set('ETag', validators.etag);
  if (validators.lastModified !== undefined) ctx.set('Last-Modified', validators.lastModified);
  ctx.set('Accept-Ranges', 'bytes');

  // RFC 9110 §13.2.2 order: If-Match / If-Unmodified-Since, then If-None-Match / If-Modified-Since, then Range.
  if (!preconditionsHold(ctx, validators)) throw new PublicError(412, 'precondition failed');
  if (fresh(ctx.headers, { etag: validators.etag, 'last-modified': validators.lastModified })) {
    ctx.status = 304;
    return;
  }

  const range = selectRange(ctx, info.size, validators);
  if (range === 'unsatisfiable') {
    throw new PublicError(416, 'range not satisfiable', { 'Content-Range': `bytes */${info.size}` });
  }
  if (range === undefined) {
    ctx.status = 200;
  } else {
    ctx.status = 206;
    ctx.set('Content-Range', `bytes ${range.start}-${range.end}/${info.size}`);
  }
  const length = range === undefined ? info.size : range.end - range.start + 1;

  if (ctx.method === 'HEAD') {
    ctx.length = length;
    return;
  }
  const body = exactLength(await store.read(key, range), length);
  // Once headers are out an error can no longer become a status: cut the connection so the
  // client sees a truncated download instead of waiting for bytes that never come.
  body.once('error', () => {
    if (ctx.res.headersSent) ctx.res.destroy();
  });
  ctx.body = body;
  ctx.length = length; // after the body: assigning a stream may drop an earlier Content-Length
}

/**
 * Passes the bytes through and fails if they do not add up to the announced Content-Length
 * (an object that changed between stat and read): a short body would leave the client waiting.
 */
function exactLength(source: Readable, expected: number): Readable {
  let seen = 0;
  const guard = new Transform({
    transform(chunk: Buffer, _encoding, callback): void {
      seen += chunk.length;
      callback(seen > expected ? new Error('body longer than announced') : null, chunk);
    },
    flush(callback): void {
      callback(seen === expected ? null : new Error('body shorter than announced'));
    },
  });
  // Errors and aborts travel both ways: a client that goes away also closes the source.
  pipeline(source, guard, () => undefined);
  return guard;
}

/** If-Match (strong comparison) or, without it, If-Unmodified-Since. */
function preconditionsHold(ctx: Context, validators: Validators): boolean {
  const ifMatch = ctx.get('If-Match').trim();
  if (ifMatch !== '') {
    if (ifMatch === '*') return true;
    const { etag } = validators;
    return etag !== undefined && !isWeak(etag) && entityTags(ifMatch).includes(etag);
  }
  const ifUnmodifiedSince = Date.parse(ctx.get('If-Unmodified-Since'));
  if (Number.isNaN(ifUnmodifiedSince) || validators.lastModified === undefined) return true;
  return Date.parse(validators.lastModified) <= ifUnmodifiedSince;
}

/**
 * The one range to send, undefined for the full body, or 'unsatisfiable'. Malformed headers,
 * other units and multiple ranges fall back to the full body, as nginx does.
 */
function selectRange(ctx: Context, size: number, validators: Validators): ByteRange | 'unsatisfiable' | undefined {
  const header = ctx.get('Range');
  if (header === '') return undefined;
  const ifRange = ctx.get('If-Range').trim();
  if (ifRange !== '' && !ifRangeMatches(ifRange, validators)) return undefined;

  const ranges = parseRange(size, header, { combine: true });
  if (ranges === -1) return 'unsatisfiable';
  if (ranges === -2 || ranges.type !== 'bytes' || ranges.length !== 1) return undefined;
  return ranges[0];
}

/** If-Range needs a strong validator: an identical strong ETag, or exactly the Last-Modified date. */
function ifRangeMatches(ifRange: string, validators: Validators): boolean {
  if (ifRange.startsWith('"') || ifRange.startsWith('W/')) {
    return validators.etag !== undefined && !isWeak(validators.etag) && ifRange === validators.etag;
  }
  if (validators.lastModified === undefined) return false;
  const date = Date.parse(ifRange);
  return !Number.isNaN(date) && date === Date.parse(validators.lastModified);
}

function entityTags(list: string): string[] {
  return list.match(/(?:W\/)?"[^"]*"/g) ?? [];
}

function isWeak(etag: string): boolean {
  return etag.startsWith('W/');
}
