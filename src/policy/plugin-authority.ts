// A loaded plugin as an authority: outside its patterns it abstains (uncached, nothing asked);
// inside, its answers go through the decision cache. Failures and invalid answers fail closed.
import { z } from 'zod';
import { authorizationUnavailable, type Authority } from './authority.js';
import { withDecisionCache, type CachedAskOptions } from './cached-ask.js';
import type { KeyParams } from './key-pattern.js';
import type { PluginAnswer } from './plugin.js';
import type { LoadedPlugin } from './plugin-loader.js';

const answerSchema = z.object({
  effect: z.enum(['allow', 'deny', 'abstain']),
  ttlSeconds: z.number().min(0).optional(),
  scope: z.string().optional(),
  reason: z.string().optional(),
});

const MAX_REASON = 200;

export function pluginAuthority(loaded: LoadedPlugin, options: Omit<CachedAskOptions, 'authority'>): Authority {
  const { plugin, patterns } = loaded;
  const ask = withDecisionCache(
    async (request, subject, params) => {
      let answer: unknown;
      try {
        answer = await plugin.authorize({ ...request, params }, subject);
      } catch (error) {
        throw authorizationUnavailable(`plugin "${plugin.name}" failed: ${error instanceof Error ? error.message : String(error)}`);
      }
      const parsed = answerSchema.safeParse(answer);
      if (!parsed.success) throw authorizationUnavailable(`plugin "${plugin.name}" returned an invalid answer`);
      const { reason, ...rest } = parsed.data;
      return { ...rest, ...(reason !== undefined ? { reason: reason.slice(0, MAX_REASON) } : {}) } satisfies PluginAnswer;
    },
    { ...options, authority: `plugin:${plugin.name}` },
  );
  return {
    name: plugin.name,
    source: 'plugin',
    async ask(request, subject) {
      let params: KeyParams | null = null;
      for (const pattern of patterns) {
        params = pattern.match(request.key.value);
        if (params !== null) break;
      }
      if (params === null) return { effect: 'abstain', reason: 'outside its patterns', cacheHit: false, ttlSeconds: 0 };
      return ask(request, subject, params);
    },
  };
}
