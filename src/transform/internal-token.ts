// The app ↔ worker contract. The app answers an allowed transform with a "ticket" in a private
// response header; nginx forwards it to the worker, which acts only on a ticket whose HMAC
// (worker.secret) verifies and which has not expired — a direct request to the worker gets 403.
// The header names, the render path and the lifetime are the contract's (src/contract/).
import { createHash } from 'node:crypto';
import { openEnvelope, sealEnvelope } from '../auth/envelope.js';
import type { Negotiated } from './format.js';
import { OUTPUT_FORMATS, canonicalPlan, type OutputFormat, type TransformPlan } from './plan.js';

/** Where the worker finds the source bytes. */
export type SourceLocator =
  /** An fs store and the canonical key's segments: the worker confines the read to the store root. */
  | { readonly kind: 'store'; readonly store: string; readonly segments: readonly string[] }
  /** A presigned GET URL of an S3 store (a bearer credential: never logged). */
  | { readonly kind: 'url'; readonly url: string };

/** How the worker names the result (Content-Disposition): imgproxy's filename rules. */
export interface DownloadName {
  /** The `filename:` option, or the source's name without its extension; the extension follows the result. */
  readonly stem: string;
  readonly attachment: boolean;
}

export interface Ticket {
  readonly plan: TransformPlan;
  readonly source: SourceLocator;
  /**
   * The result's format when the app could fix it; null = the worker decides from the probed
   * source and `negotiable` (see format.ts).
   */
  readonly format: OutputFormat | null;
  /** AVIF/WebP the client accepts, in preference order (absent = none). */
  readonly negotiable?: readonly Negotiated[];
  /** Present: the worker answers with Content-Disposition for this name. */
  readonly download?: DownloadName;
  /** Hex digest naming the result; nginx's cache key and the worker's ETag. */
  readonly cacheKey: string;
  /** Unix seconds. */
  readonly expires: number;
  /**
   * Who asked (`sub:<id>`, `link:<id>`, `ip:<address>`; see rateLimitKey): the worker's
   * per-client concurrency and render budget are kept per value. Signed, so nginx's cache key
   * stays free of it and a client cannot spend another's budget.
   */
  readonly client: string;
  /** Present when the shared result store is on and may hold this result (result-key.ts). */
  readonly result?: StoredResultRef;
}

/** Where the shared result store keeps this result, and the settings digest the app keyed it with. */
export interface StoredResultRef {
  /** resultKey(): 64 hex digits. */
  readonly key: string;
  /** The worker uses the store only when its own renderSettingsDigest is the same. */
  readonly settings: string;
}

/** Tickets from an app that predates `client` (a rolling upgrade) share one bucket. */
const UNKNOWN_CLIENT = 'unknown';

export interface CacheKeyInput {
  readonly plan: TransformPlan;
  readonly store: string;
  readonly key: string;
  /** Changes whenever the source bytes change: fs size+mtime, S3 ETag. */
  readonly validator: string;
  /** The fixed format, or null when the worker decides it from the source and `negotiable`. */
  readonly format: OutputFormat | null;
  /** What the client's Accept allows (the negotiated Accept class). */
  readonly negotiable?: readonly Negotiated[];
  /** The result's name and disposition: the worker's answer (and so the cached entry) carries it. */
  readonly download?: DownloadName;
  /** renderSettingsDigest (result-key.ts): changing quality, watermark or limits changes the key. */
  readonly settings?: string;
}

/**
 * Everything the cached answer depends on: the result's bytes (plan, source version, format or
 * the Accept class it is negotiated from) and the headers the worker writes (the download name).
 * The URL's lifetime (expires) is left out, so rolling `expires:` values still hit the same
 * entry; filename and return_attachment count only through `download`.
 */
export function cacheKey(input: CacheKeyInput): string {
  const pixels: TransformPlan = { ...input.plan, expires: null, filename: null, returnAttachment: false };
  const negotiable = (input.negotiable ?? []).map((n) => `${n.format}${n.enforce ? '!' : ''}`);
  const download = input.download === undefined ? null : [input.download.stem, input.download.attachment];
  return createHash('sha256')
    .update(JSON.stringify(['v2', canonicalPlan(pixels), input.store, input.key, input.validator, input.format, negotiable, download, input.settings ?? null]))
    .digest('hex');
}

/** What the app signs; `client` may be left out (tests, tools): the worker then uses one shared bucket. */
export type TicketInput = Omit<Ticket, 'client'> & { readonly client?: string };

export function signTicket(ticket: TicketInput, secret: string): string {
  return sealEnvelope(
    {
      plan: canonicalPlan(ticket.plan),
      source: ticket.source,
      format: ticket.format,
      ...(ticket.negotiable !== undefined && { negotiable: ticket.negotiable }),
      ...(ticket.download !== undefined && { download: ticket.download }),
      ...(ticket.result !== undefined && { result: ticket.result }),
      cacheKey: ticket.cacheKey,
      expires: ticket.expires,
      client: ticket.client,
    },
    secret,
  );
}

/** The ticket, or null when it is missing, malformed, forged or expired. */
export function verifyTicket(value: string | undefined, secret: string, now = Date.now() / 1000): Ticket | null {
  const raw = openEnvelope(value, secret) as (Omit<Ticket, 'plan'> & { plan: string }) | null;
  if (raw === null || typeof raw !== 'object') return null;
  let ticket: Ticket;
  try {
    ticket = { ...raw, plan: JSON.parse(raw.plan) as TransformPlan, client: typeof raw.client === 'string' && raw.client !== '' ? raw.client : UNKNOWN_CLIENT };
  } catch {
    return null;
  }
  if (typeof ticket.expires !== 'number' || ticket.expires < now) return null;
  if (ticket.format !== null && !(OUTPUT_FORMATS as readonly string[]).includes(ticket.format)) return null;
  // The key becomes an object name: only the shape resultKey() produces.
  if (ticket.result !== undefined && !(/^[0-9a-f]{64}$/.test(String(ticket.result?.key)) && typeof ticket.result?.settings === 'string')) return null;
  return ticket;
}
