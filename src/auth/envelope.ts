// HMAC-signed JSON envelopes between the app and the worker tier ("tickets"): the app signs what
// it authorized, nginx carries it in a private header, the worker acts on nothing else.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** `<base64url JSON>.<base64url HMAC-SHA256>`. */
export function sealEnvelope(payload: unknown, secret: string): string {
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${body}.${mac(body, secret)}`;
}

/** The payload, or null when the value is missing, malformed or forged. */
export function openEnvelope(value: string | undefined, secret: string): unknown {
  if (value === undefined) return null;
  const dot = value.indexOf('.');
  if (dot < 0) return null;
  const body = value.slice(0, dot);
  const given = Buffer.from(value.slice(dot + 1), 'base64url');
  const expected = Buffer.from(mac(body, secret), 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  try {
    return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as unknown;
  } catch {
    return null;
  }
}

function mac(body: string, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('base64url');
}
