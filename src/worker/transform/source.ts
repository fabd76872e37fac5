// Fetches a ticket's source bytes into memory, bounded in size and time: an fs store read
// (confined to the store root by the store itself) or a presigned S3 URL on a known origin.
import { addAbortSignal, type Readable } from 'node:stream';
import { notFound, PublicError, storageUnavailable } from '../../errors.js';
import type { Store } from '../../storage/types.js';
import type { SourceLocator } from '../../transform/internal-token.js';

export interface SourceLimits {
  readonly maxBytes: number;
  readonly timeoutMs: number;
}

export interface SourceFetcher {
  /** The source's bytes; `signal` aborts when the client went away. */
  fetch(source: SourceLocator, signal?: AbortSignal): Promise<Buffer>;
}

const tooLarge = (): PublicError => new PublicError(422, 'source image too large');
const timedOut = (): PublicError => new PublicError(504, 'source download timed out');

/** The store a source is read from, for one fetch (an encrypted store's view may remember what it opened). */
export type SourceStoreLookup = (name: string) => Store | undefined;

/**
 * `allowedOrigins`: scheme://host[:port] of every S3 store. The ticket is HMAC-signed, so only
 * the app can name a URL; the origin check keeps a bug from turning the worker into an open proxy.
 */
export function createSourceFetcher(storeFor: SourceStoreLookup, allowedOrigins: ReadonlySet<string>, limits: SourceLimits): SourceFetcher {
  return {
    async fetch(source: SourceLocator, clientSignal?: AbortSignal): Promise<Buffer> {
      const timeout = AbortSignal.timeout(limits.timeoutMs);
      const signal = clientSignal === undefined ? timeout : AbortSignal.any([timeout, clientSignal]);
      try {
        return source.kind === 'store'
          ? await fromStore(storeFor, source, limits.maxBytes, signal)
          : await fromUrl(allowedOrigins, source.url, limits.maxBytes, signal);
      } catch (error) {
        if (!signal.aborted || error instanceof PublicError) throw error;
        throw timeout.aborted ? timedOut() : new PublicError(499, 'client closed request');
      }
    },
  };
}

async function fromStore(
  storeFor: SourceStoreLookup,
  source: Extract<SourceLocator, { kind: 'store' }>,
  maxBytes: number,
  signal: AbortSignal,
): Promise<Buffer> {
  const store = storeFor(source.store);
  if (store === undefined) throw notFound('source not allowed');
  const key = { segments: source.segments, value: source.segments.join('/') };
  const info = await store.stat(key);
  if (info === null) throw notFound('source not found');
  if (info.size > maxBytes) throw tooLarge();
  const stream: Readable = await store.read(key);
  return readCapped(addAbortSignal(signal, stream), maxBytes);
}

async function fromUrl(allowedOrigins: ReadonlySet<string>, url: string, maxBytes: number, signal: AbortSignal): Promise<Buffer> {
  const origin = /^(https?:\/\/[^/?#]+)\//.exec(url)?.[1];
  if (origin === undefined || !allowedOrigins.has(origin)) throw notFound('source not allowed');
  let response: Response;
  try {
    response = await fetch(url, { signal, redirect: 'error' });
  } catch (error) {
    if (signal.aborted) throw error;
    // The message only: undici's errors never carry the URL, but the request objects might.
    throw storageUnavailable(new Error(`source fetch failed: ${(error as Error).message}`));
  }
  if (response.status === 404) throw notFound('source not found');
  if (response.status !== 200 || response.body === null) {
    await response.body?.cancel();
    throw storageUnavailable(new Error(`source fetch answered HTTP ${response.status}`));
  }
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await response.body.cancel();
    throw tooLarge();
  }
  return readCapped(response.body, maxBytes);
}

/** Collects a body, giving up as soon as it exceeds `maxBytes` (never trusting Content-Length). */
async function readCapped(body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}
