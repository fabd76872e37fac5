// The app ↔ worker contract for encrypted stores: the app signs "read this key" (a download it
// allowed) or "write this key" (an upload it allowed); nginx forwards the ticket; the worker
// refuses anything without a valid, unexpired one.
// Its header name, lifetime and shape are the contract's (src/contract/tickets.ts).
import { openEnvelope, sealEnvelope } from '../auth/envelope.js';
import { CRYPT_TICKET_TTL_SECONDS, type CryptTicket } from '../contract/tickets.js';

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
