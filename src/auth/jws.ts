/**
 * The last base64url character of a signature may carry unused bits, which decoders ignore:
 * without this check, changing it (e.g. "A" → "B") would still verify. A token that is not
 * byte-for-byte the one that was issued is refused (no malleable twins in logs or revocation lists).
 */
export function hasCanonicalSignature(token: string): boolean {
  const signature = token.slice(token.lastIndexOf('.') + 1);
  return Buffer.from(signature, 'base64url').toString('base64url') === signature;
}
