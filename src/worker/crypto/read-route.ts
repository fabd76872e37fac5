// GET|HEAD /crypt/read: a download from an encrypted store that the app allowed. The HTTP
// semantics (validators, 304/412, single ranges 206/416) are stream mode's, over a store that
// decrypts only the chunks a range needs.
import type { Context } from 'koa';
import { PublicError } from '../../errors.js';
import { deliverStream } from '../../offload/stream.js';
import type { Store } from '../../storage/types.js';
import { decryptingStore, integrityFailureOf } from '../../crypto/encrypted-object.js';
import type { KeyLookup } from '../../crypto/keys.js';
import { CRYPT_TICKET_HEADER } from '../../contract/tickets.js';
import { verifyCryptTicket } from '../../crypto/ticket.js';
import { INTEGRITY_FAILURE_MESSAGE, type IntegrityReporter } from './integrity.js';

export interface CryptReadDeps {
  readonly secret: string;
  /** The stores as configured (ciphertext), by name. */
  readonly stores: ReadonlyMap<string, Store>;
  readonly keys: KeyLookup;
  /** Logs and counts each object that fails verification (once, however it surfaces). */
  readonly integrity: IntegrityReporter;
}

export async function cryptRead(ctx: Context, deps: CryptReadDeps): Promise<void> {
  const ticket = verifyCryptTicket(ctx.get(CRYPT_TICKET_HEADER) || undefined, 'read', deps.secret);
  const store = ticket === null ? undefined : deps.stores.get(ticket.store);
  if (ticket === null || store === undefined || !store.encrypted) throw new PublicError(403, 'forbidden');
  const key = { segments: ticket.segments, value: ticket.segments.join('/') };
  const plaintext = decryptingStore(store, deps.keys, {
    perRequest: true,
    // Damage found after the headers went out only cuts the connection: this is its one log line.
    onIntegrityFailure: (failure) =>
      deps.integrity(failure, { requestId: ctx.state.requestId as string | undefined, use: 'read', afterHeaders: ctx.res.headersSent }),
  });
  try {
    await deliverStream(ctx, plaintext, key);
  } catch (error) {
    const failure = integrityFailureOf(error, store.name, key.value);
    if (failure === null) throw error;
    // Already logged with store, key, chunk and reason: answer without a second, vaguer line.
    // 500, not 502: nginx turns the worker's 500 into its "storage error" answer and keeps
    // 502/503/504 for "worker unreachable".
    answerUnverified(ctx, failure.reason === 'unknown_key' ? 'stored object cannot be decrypted' : INTEGRITY_FAILURE_MESSAGE);
  }
}

/** The error answer the error middleware would give a 500 (no stale success headers, no caching). */
function answerUnverified(ctx: Context, reason: string): void {
  for (const name of Object.keys(ctx.response.headers)) {
    if (name !== 'x-request-id') ctx.remove(name);
  }
  ctx.status = 500;
  ctx.set('Cache-Control', 'no-store');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.body = { error: reason };
}
