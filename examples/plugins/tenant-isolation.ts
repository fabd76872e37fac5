// Example Sluice plugin: tenant isolation. Keys under `<prefix>/<tenant>/…` belong to one tenant;
// a subject may read them only when its tenant claim names that tenant.
//
//   policy:
//     plugins:
//       - module: ./examples/plugins/tenant-isolation.ts   # compiled .js in production
//         options: { claim: org.tenant, prefix: tenants }
//   rules:
//     - { id: tenants, effect: delegate, to: tenant-isolation }
//
// Answers: same tenant → allow; another or no tenant → deny; anonymous → abstain (a later rule,
// e.g. a public one, may still allow; otherwise the default deny asks the caller to log in).
// The answer is a pure function of the token, so it asks not to be cached (ttlSeconds: 0).
import type { Subject } from '../../src/auth/types.js';
import type { PluginAnswer, PluginRequest, SluicePlugin } from '../../src/policy/plugin.js';

export interface TenantIsolationOptions {
  /** Claim (dot path allowed) holding the subject's tenant; default "tenant". */
  readonly claim?: unknown;
  /** First key segment of tenant folders; default "tenants". */
  readonly prefix?: unknown;
}

export default function tenantIsolation(options: TenantIsolationOptions = {}): SluicePlugin {
  const claim = stringOption('claim', options.claim, 'tenant');
  const prefix = stringOption('prefix', options.prefix, 'tenants');
  if (!/^[A-Za-z0-9_.-]+$/.test(prefix)) throw new Error(`tenant-isolation: prefix must be one plain key segment, got ${JSON.stringify(prefix)}`);
  return {
    name: 'tenant-isolation',
    patterns: [`${prefix}/:tenant/*rest`],
    authorize(request: PluginRequest, subject: Subject): PluginAnswer {
      if (!subject.authenticated) return { effect: 'abstain', reason: 'anonymous', ttlSeconds: 0 };
      const tenant = claimAt(subject.claims, claim);
      if (typeof tenant !== 'string') return { effect: 'deny', reason: 'no tenant claim', ttlSeconds: 0 };
      if (tenant !== request.params.tenant) return { effect: 'deny', reason: 'another tenant', ttlSeconds: 0 };
      return { effect: 'allow', reason: 'own tenant', ttlSeconds: 0 };
    },
  };
}

function stringOption(name: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value === '') throw new Error(`tenant-isolation: option ${name} must be a non-empty string`);
  return value;
}

/** Own properties only, by dot path; an exact (namespaced) claim name wins. */
function claimAt(claims: Readonly<Record<string, unknown>>, path: string): unknown {
  if (Object.hasOwn(claims, path)) return claims[path];
  let node: unknown = claims;
  for (const part of path.split('.')) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, part)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}
