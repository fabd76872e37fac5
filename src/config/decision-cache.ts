// Which parts of the nginx decision cache a configuration turns on: read by the renderer
// (nginx/render-decision-cache.ts) and by the app's routes, which answer only what is rendered.
import type { SluiceConfig } from './schema.js';

export function decisionCacheStores(config: SluiceConfig): string[] {
  return Object.entries(config.stores)
    .filter(([, store]) => (store.decisionCache?.ttlSeconds ?? 0) > 0 && !store.encrypted && store.delivery === 'nginx')
    .map(([name]) => name);
}

/** Image URLs (both forms) whose decisions nginx caches: transform.decisionCache. */
export function imageDecisionCacheOn(config: SluiceConfig): boolean {
  return config.transform.enabled && config.transform.decisionCache.ttlSeconds > 0;
}

/** Anything of the decision cache is rendered (the zone, the maps, the audit log). */
export function decisionCacheOn(config: SluiceConfig): boolean {
  return decisionCacheStores(config).length > 0 || imageDecisionCacheOn(config);
}
