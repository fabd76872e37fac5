// The bounds the nginx decision cache promises (docs/nginx.md "Decision cache"), checked the same
// way for downloads and image URLs: a revoked jti is refused within the TTL, an expired token at once.
import assert from 'node:assert/strict';
import type { RawResponse } from './http.js';

/** Polls until `refused` holds for a response, or the deadline passes; returns when it first held. */
export async function firstRefusal(send: () => Promise<RawResponse>, refused: (res: RawResponse) => boolean, deadlineMs: number): Promise<number | null> {
  while (Date.now() < deadlineMs) {
    if (refused(await send())) return Date.now();
    await new Promise((r) => setTimeout(r, 50));
  }
  return null;
}

/** `send` is allowed (twice, so the second may be a hit); after `revoke` it is refused within ttl + 1 s and stays refused. */
export async function assertRevocationBound(send: () => Promise<RawResponse>, revoke: () => Promise<RawResponse>, ttlSeconds: number): Promise<void> {
  assert.equal((await send()).status, 200);
  assert.equal((await send()).status, 200);
  assert.equal((await revoke()).status, 204);
  const revokedAt = Date.now();
  const refusedAt = await firstRefusal(send, (res) => res.status === 401, revokedAt + (ttlSeconds + 5) * 1000);
  assert.ok(refusedAt !== null && refusedAt - revokedAt <= (ttlSeconds + 1) * 1000, `refused after ${refusedAt === null ? 'never' : refusedAt - revokedAt} ms`);
  for (let i = 0; i < 3; i += 1) assert.equal((await send()).status, 401);
}

/** `send` (carrying `jwt`) is allowed, then refused no later than a second after the token's exp. */
export async function assertExpiryBound(send: () => Promise<RawResponse>, jwt: string, ttlSeconds: number): Promise<void> {
  const exp = JSON.parse(Buffer.from(jwt.split('.')[1] as string, 'base64url').toString()).exp as number;
  assert.equal((await send()).status, 200);
  const refusedAt = await firstRefusal(send, (res) => res.status === 401, (exp + ttlSeconds + 5) * 1000);
  assert.ok(refusedAt !== null && refusedAt <= (exp + 1) * 1000 + 200, `refused ${refusedAt === null ? 'never' : refusedAt - exp * 1000} ms after exp`);
  assert.equal((await send()).status, 401);
}
