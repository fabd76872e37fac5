// The host application as an authority: POST {subject, claims, store, key, action} as JSON,
// answer {allow: boolean, ttlSeconds?, scope?}. Anything else — a timeout, a refused connection,
// a non-200 status, a body that is not such an object — fails closed with 503 "authorization
// unavailable" (logged with the cause by the error mapper); it is never treated as allow.
import { z } from 'zod';
import type { WebhookConfig } from '../config/policy-schema.js';
import { PublicError } from '../errors.js';
import { authorizationUnavailable, type Authority } from './authority.js';
import { withDecisionCache, type CachedAskOptions } from './cached-ask.js';

const answerSchema = z.object({
  allow: z.boolean(),
  ttlSeconds: z.number().min(0).optional(),
  scope: z.string().min(1).optional(),
});

export function webhookAuthority(config: WebhookConfig, options: Omit<CachedAskOptions, 'authority'>): Authority {
  const headers = { 'content-type': 'application/json', accept: 'application/json', ...config.headers };
  const ask = withDecisionCache(
    async (request, subject) => {
      const body = JSON.stringify({ subject: subject.id, claims: subject.claims, store: request.store, key: request.key.value, action: request.action });
      const signal = AbortSignal.timeout(config.timeoutMs);
      let json: unknown;
      try {
        const response = await fetch(config.url, { method: 'POST', headers, body, signal, redirect: 'error' });
        if (response.status !== 200) {
          await response.body?.cancel();
          throw authorizationUnavailable(`webhook answered HTTP ${response.status}`);
        }
        json = await response.json();
      } catch (error) {
        if (error instanceof PublicError) throw error;
        throw authorizationUnavailable(describe(error, config.timeoutMs));
      }
      const parsed = answerSchema.safeParse(json);
      if (!parsed.success) throw authorizationUnavailable('webhook answer is not {allow: boolean, ttlSeconds?, scope?}');
      const { allow, ...rest } = parsed.data;
      return { effect: allow ? 'allow' : 'deny', ...rest };
    },
    { ...options, authority: 'webhook' },
  );
  return { name: 'webhook', source: 'webhook', ask: (request, subject) => ask(request, subject, {}) };
}

function describe(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `webhook timed out after ${timeoutMs} ms`;
  if (error instanceof SyntaxError) return 'webhook answer is not JSON';
  const code = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  return `webhook request failed: ${typeof code === 'string' ? code : error instanceof Error ? error.message : String(error)}`;
}
