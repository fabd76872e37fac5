// Tickets: what the app signs for the worker. The app answers with one in a private response
// header, nginx forwards it as a request header, and the worker acts only on a valid, unexpired
// one. Signing and verifying live with their payloads (transform/internal-token.ts,
// crypto/ticket.ts); the names and lifetimes both sides rely on live here.

/** Image transforms: app response header → nginx → worker request header. Never reaches the client. */
export const TICKET_HEADER = 'X-Sluice-Img-Ticket';

/** App response header nginx uses as proxy_cache_key (also inside the ticket, for the ETag). */
export const CACHE_KEY_HEADER = 'X-Sluice-Img-Key';

/** nginx forwards an image ticket at once; a minute covers proxy_cache_lock waits. */
export const TICKET_TTL_SECONDS = 60;

/** Encrypted stores: app response header → nginx → worker request header. Never reaches the client. */
export const CRYPT_TICKET_HEADER = 'X-Sluice-Crypt-Ticket';

/** nginx forwards a crypt ticket at once (a download) or right after auth_request (an upload). */
export const CRYPT_TICKET_TTL_SECONDS = 60;

/** What a crypt ticket allows: one operation on one key of one store, until `expires`. */
export interface CryptTicket {
  readonly op: 'read' | 'write';
  readonly store: string;
  /** The canonical key's segments. */
  readonly segments: readonly string[];
  /** Unix seconds. */
  readonly expires: number;
}
