// The app ↔ worker contract for encrypted stores: the app signs "read this key" (a download it
// allowed) or "write this key" (an upload it allowed); nginx forwards the ticket; the worker
// refuses anything without a valid, unexpired one.
import { openEnvelope, sealEnvelope } from '../auth/envelope.js';

export const CRYPT_READ_PATH = '/crypt/read';
export const CRYPT_WRITE_PATH = '/crypt/write';

/** App response header → nginx → worker request header. Never reaches the client. */
export const CRYPT_TICKET_HEADER = 'X-Sluice-Crypt-Ticket';

/** nginx forwards the ticket at once (a download) or right after auth_request (an upload). */
export const CRYPT_TICKET_TTL_SECONDS = 60;

export interface CryptTicket {
  readonly op: 'read' | 'write';
  readonly store: string;
  /** The canonical key's segments. */
  readonly segments: readonly string[];
  /** Unix seconds. */
  readonly expires: number;
}

export function signCryptTicket(ticket: Omit<CryptTicket, 'expires'>, secret: string, now = Date.now() / 1000): string {
  return sealEnvelope({ ...ticket, expires: Math.floor(now) + CRYPT_TICKET_TTL_SECONDS }, secret);
}

/** The ticket for `op`, or null when missing, forged, expired or for the other operation. */
export function verifyCryptTicket(value: string | undefined, op: CryptTicket['op'], secret: string, now = Date.now() / 1000): CryptTicket | null {
  const raw = openEnvelope(value, secret) as Partial<CryptTicket> | null;
  if (raw === null || typeof raw !== 'object' || raw.op !== op) return null;
  if (typeof raw.store !== 'string' || !Array.isArray(raw.segments) || raw.segments.some((s) => typeof s !== 'string')) return null;
  if (typeof raw.expires !== 'number' || raw.expires < now) return null;
  return { op, store: raw.store, segments: raw.segments, expires: raw.expires };
}
