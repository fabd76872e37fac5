// The one shape of a decision-cache setting (stores' downloads and image URLs): how long nginx may
// reuse an allow decision of the app (docs/nginx.md "Decision cache"). 0 = off.
import { z } from 'zod';

export function decisionCacheSchema(description: string) {
  return z.strictObject({
    ttlSeconds: z.number().int().min(0).max(3600).default(0).describe(description),
  });
}
