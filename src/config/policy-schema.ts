// Authorization settings: the ordered `rules` (top level) and `policy` (roles claim, plugins,
// webhook, decision cache). Shapes only; cross-references (a rule delegating to a plugin that
// does not exist) are checked when the engine is built, because plugin names come from the
// plugin modules themselves.
import { z } from 'zod';

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

const timeZone = z.string().refine((zone) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}, 'unknown time zone (use an IANA name such as "Europe/Berlin")');

/** A time window: every field given must hold. Hours are [from, to); from > to wraps midnight. */
const timeWindowSchema = z
  .strictObject({
    after: z.iso.datetime({ offset: true }).optional(),
    before: z.iso.datetime({ offset: true }).optional(),
    weekdays: z.array(z.enum(WEEKDAYS)).min(1).optional(),
    hours: z.strictObject({ from: z.number().int().min(0).max(23), to: z.number().int().min(1).max(24) }).optional(),
    /** Zone for weekdays/hours; default UTC. */
    timeZone: timeZone.optional(),
  })
  .superRefine((window, ctx) => {
    if (window.after === undefined && window.before === undefined && window.weekdays === undefined && window.hours === undefined) {
      ctx.addIssue({ code: 'custom', message: 'set at least one of after, before, weekdays, hours' });
    }
    if (window.after !== undefined && window.before !== undefined && Date.parse(window.after) >= Date.parse(window.before)) {
      ctx.addIssue({ code: 'custom', path: ['before'], message: '"before" must be later than "after"' });
    }
    if (window.hours !== undefined && window.hours.from === window.hours.to) {
      ctx.addIssue({ code: 'custom', path: ['hours'], message: 'an empty hour window never holds' });
    }
  });

/** One schema per condition kind, chosen by the condition's key so errors point inside it. */
const CONDITION_KINDS = {
  public: z.strictObject({ public: z.literal(true) }),
  authenticated: z.strictObject({ authenticated: z.literal(true) }),
  equals: z.strictObject({ claim: z.string().min(1), equals: z.union([z.string(), z.number(), z.boolean()]) }),
  contains: z.strictObject({ claim: z.string().min(1), contains: z.union([z.string(), z.number()]) }),
  equalsParam: z.strictObject({ claim: z.string().min(1), equalsParam: z.string().min(1) }),
  /** The subject holds this role (read from policy.rolesClaim). */
  role: z.strictObject({ role: z.string().min(1) }),
  /** The subject holds at least one of these roles. */
  anyRole: z.strictObject({ anyRole: z.array(z.string().min(1)).min(1) }),
  time: z.strictObject({ time: timeWindowSchema }),
} as const;

type ConditionKindSchema = (typeof CONDITION_KINDS)[keyof typeof CONDITION_KINDS];
export type ConditionConfig = z.infer<ConditionKindSchema>;

const conditionSchema: z.ZodType<ConditionConfig> = z.unknown().transform((input, ctx) => {
  const kind = typeof input === 'object' && input !== null ? Object.keys(CONDITION_KINDS).find((name) => Object.hasOwn(input, name)) : undefined;
  if (kind === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `unknown condition; use one of ${Object.keys(CONDITION_KINDS).join(', ')} (claim conditions: claim + equals/contains/equalsParam)`,
    });
    return z.NEVER;
  }
  const result = (CONDITION_KINDS[kind as keyof typeof CONDITION_KINDS] as ConditionKindSchema).safeParse(input);
  if (result.success) return result.data;
  for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
  return z.NEVER;
});

/** read = GET, head = HEAD, transform = image variants, share = minting share links, write = uploads. */
export const actionSchema = z.enum(['read', 'head', 'transform', 'share', 'write']);

/** A deny rule without `actions` denies everything: a deny that silently left uploads,
 * transforms or sharing open would be a hole. Allow and delegate rules default to reading. */
const DENY_DEFAULT_ACTIONS = actionSchema.options;
const ALLOW_DEFAULT_ACTIONS = ['read', 'head'] as const;

/** nginx-style rates ("512k", "2m", or bytes as a number) → bytes per second (k = 1024). */
const limitRateSchema = z
  .union([z.number().int().min(1), z.string().regex(/^[1-9][0-9]*[kKmMgG]?$/, 'a rate such as 512k, 2m or 65536 (bytes per second)')])
  .transform((rate) => {
    if (typeof rate === 'number') return rate;
    const unit = rate.slice(-1).toLowerCase();
    const multiplier = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
    return Number.parseInt(rate, 10) * multiplier;
  });

export const ruleSchema = z
  .strictObject({
    id: z.string().min(1).optional().describe('name used in audit lines and error messages'),
    store: z.string().min(1).default('*').describe('store name, or `*` for every store'),
    key: z
      .string()
      .min(1)
      .optional()
      .describe(
        'key pattern, path-to-regexp syntax (`:name` one segment, `*name` one or more); required except on delegate rules (then every key; a plugin still checks its own patterns)',
      ),
    actions: z.array(actionSchema).min(1).optional().meta({
      docDefault: 'every action for `deny`; `[read, head]` for `allow`, `delegate`',
      description: '`read` = GET, `head` = HEAD, `transform` = image variants, `share` = minting share links, `write` = uploads',
    }),
    effect: z
      .enum(['allow', 'deny', 'delegate'])
      .default('allow')
      .describe('`delegate` asks `to`: its allow or deny decides, abstain falls through to the next rule'),
    to: z.string().min(1).optional().describe("`webhook` or a plugin's name; only with `effect: delegate`"),
    limitRate: limitRateSchema.optional().meta({
      docType: 'rate: `512k`, `2m` or bytes per second',
      description: 'download bandwidth when this rule allows (nginx applies `X-Accel-Limit-Rate`)',
    }),
    cacheSeconds: z
      .number()
      .int()
      .min(0)
      .max(3600)
      .optional()
      .describe("upper bound on how long nginx may reuse this rule's allow (stores' `decisionCache`); 0 = never"),
    when: z
      .array(conditionSchema)
      .default([])
      .meta({ docType: 'list of conditions', description: 'every condition must hold for the rule to apply; empty = always (authorization.md, *Conditions*)' }),
  })
  .superRefine((rule, ctx) => {
    if (rule.effect === 'delegate' && rule.to === undefined) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'a delegate rule needs "to": "webhook" or a plugin name' });
    }
    if (rule.effect !== 'delegate' && rule.to !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: '"to" is only for effect: delegate' });
    }
    if (rule.effect !== 'delegate' && rule.key === undefined) {
      ctx.addIssue({ code: 'custom', path: ['key'], message: 'key pattern is required' });
    }
    if (rule.effect === 'deny' && rule.limitRate !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['limitRate'], message: 'limitRate only applies to rules that can allow' });
    }
  })
  .transform((rule) => ({ ...rule, actions: rule.actions ?? [...(rule.effect === 'deny' ? DENY_DEFAULT_ACTIONS : ALLOW_DEFAULT_ACTIONS)] }));

const pluginSchema = z.strictObject({
  module: z.string().min(1).describe('a file (`./plugins/tenant.js`, relative to the working directory) or a package name'),
  options: z.record(z.string(), z.unknown()).default({}).describe('passed to the module when it exports a factory function'),
});

const webhookSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }).describe("the host app's endpoint: POST `{subject, claims, store, key, action}` → `{allow, ttlSeconds?, scope?}`"),
  timeoutMs: z.number().int().min(50).max(30_000).default(1500).describe('no answer within this → 503 (fail closed)'),
  headers: z
    .record(z.string().regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, 'not a header name'), z.string())
    .default({})
    .describe('extra request headers, e.g. a shared secret the host app checks (never logged)'),
});

const cacheSchema = z
  .strictObject({
    maxEntries: z
      .number()
      .int()
      .min(0)
      .max(10_000_000)
      .default(10_000)
      .describe('bound of the in-memory LRU of webhook/plugin answers (0 = no caching); Redis entries are bounded by their TTL'),
    defaultTtlSeconds: z.number().int().min(0).max(86_400).default(30).describe('TTL of answers that give none'),
    maxTtlSeconds: z.number().int().min(0).max(86_400).default(300).describe("cap on any answer's TTL: the longest a withdrawn permission keeps working"),
    redisPrefix: z.string().min(1).default('sluice:decision:').describe('prefix of the Redis keys (with `redisUrl` or `redis`)'),
  })
  .refine((cache) => cache.defaultTtlSeconds <= cache.maxTtlSeconds, {
    path: ['defaultTtlSeconds'],
    message: 'defaultTtlSeconds must not exceed maxTtlSeconds',
  });

export const policySchema = z
  .strictObject({
    rolesClaim: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .prefault('roles')
      .transform((claims) => (typeof claims === 'string' ? [claims] : claims))
      .describe("claim path(s) holding the subject's roles, read by `role`/`anyRole` conditions (dot paths: `realm_access.roles`)"),
    plugins: z.array(pluginSchema).default([]).describe('authorization plugins, loaded with `import()` at start-up (authorization.md, *Plugins*)'),
    webhook: webhookSchema.optional(),
    cache: cacheSchema.prefault({}),
  })
  .prefault({});

export type RuleConfig = z.infer<typeof ruleSchema>;
export type TimeWindowConfig = z.infer<typeof timeWindowSchema>;
export type Action = z.infer<typeof actionSchema>;
export type PolicyConfig = z.infer<typeof policySchema>;
export type PluginConfig = z.infer<typeof pluginSchema>;
export type WebhookConfig = z.infer<typeof webhookSchema>;
export type DecisionCacheConfig = z.infer<typeof cacheSchema>;
