import { mintToken } from '../../src/auth/mint.js';

/** The HS256 secret every integration stack is configured with. */
export const TEST_SECRET = 'integration-test-secret-0123456789abcdef';

export const testAuthConfig = { keys: [{ algorithms: ['HS256'], secret: TEST_SECRET }], cookieName: 'sluice_session' };

export async function bearer(sub: string, claims: Record<string, unknown> = {}): Promise<Record<string, string>> {
  return { Authorization: `Bearer ${await mintToken({ secret: TEST_SECRET, sub, ttlSeconds: 300, claims })}` };
}
