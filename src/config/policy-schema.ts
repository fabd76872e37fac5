// Authorization settings: ordered rules (and, as the engine grows, plugins, webhook, cache).
import { z } from 'zod';

const conditionSchema = z.union([
  z.strictObject({ public: z.literal(true) }),
  z.strictObject({ authenticated: z.literal(true) }),
  z.strictObject({ claim: z.string().min(1), equals: z.union([z.string(), z.number(), z.boolean()]) }),
  z.strictObject({ claim: z.string().min(1), contains: z.union([z.string(), z.number()]) }),
  z.strictObject({ claim: z.string().min(1), equalsParam: z.string().min(1) }),
]);

/** read = GET, head = HEAD, transform = image variants, share = minting share links. */
export const actionSchema = z.enum(['read', 'head', 'transform', 'share']);

export const ruleSchema = z.strictObject({
  id: z.string().min(1).optional(),
  /** Store name, or "*" for every store. */
  store: z.string().min(1).default('*'),
  /** Key pattern: path-to-regexp syntax (":param" one segment, "*rest" any remaining segments). */
  key: z.string().min(1),
  actions: z.array(actionSchema).min(1).default(['read', 'head']),
  effect: z.enum(['allow', 'deny']).default('allow'),
  /** All conditions must hold for the rule to apply; an empty list always applies. */
  when: z.array(conditionSchema).default([]),
});

export type RuleConfig = z.infer<typeof ruleSchema>;
export type ConditionConfig = z.infer<typeof conditionSchema>;
export type Action = z.infer<typeof actionSchema>;
