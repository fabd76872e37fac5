// GET|HEAD /crypt/read: a download from an encrypted store that the app allowed. The HTTP
// semantics (validators, 304/412, single ranges 206/416) are stream mode's, over a store that
// decrypts only the chunks a range needs.
import type { Context } from 'koa';
import { PublicError } from '../../errors.js';
import { deliverStream } from '../../offload/stream.js';
import type { Store } from '../../storage/types.js';
import { DamagedObjectError } from '../format.js';
import { decryptingStore } from '../encrypted-object.js';
import { UnknownKeyError, type KeyLookup } from '../keys.js';
import { CRYPT_TICKET_HEADER, verifyCryptTicket } from '../ticket.js';

export interface CryptReadDeps {
  readonly secret: string;
  /** The stores as configured (ciphertext), by name. */
  readonly stores: ReadonlyMap<string, Store>;
  readonly keys: KeyLookup;
}

export async function cryptRead(ctx: Context, deps: CryptReadDeps): Promise<void> {
  const ticket = verifyCryptTicket(ctx.get(CRYPT_TICKET_HEADER) || undefined, 'read', deps.secret);
  const store = ticket === null ? undefined : deps.stores.get(ticket.store);
  if (ticket === null || store === undefined || !store.encrypted) throw new PublicError(403, 'forbidden');
  const key = { segments: ticket.segments, value: ticket.segments.join('/') };
  try {
    await deliverStream(ctx, decryptingStore(store, deps.keys, { perRequest: true }), key);
  } catch (error) {
    throw asPublicCryptError(error);
  }
}

/**
 * Damage and missing keys are the operator's problem: logged in full. 500, not 502: nginx turns
 * the worker's 500 into its "storage error" answer and keeps 502/503/504 for "worker unreachable".
 */
export function asPublicCryptError(error: unknown): unknown {
  if (error instanceof DamagedObjectError) return new PublicError(500, 'stored object failed verification', {}, error);
  if (error instanceof UnknownKeyError) return new PublicError(500, 'stored object cannot be decrypted', {}, error);
  return error;
}
