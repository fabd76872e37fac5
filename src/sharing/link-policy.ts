// A share link is judged by its own scope, never by the rules: it grants read/head of exactly
// its key (or of keys under its prefix) in its store, and nothing else — no transform, no share.
import type { ShareGrant, Subject } from '../auth/types.js';
import type { AccessRequest, Decision, Policy } from '../policy/types.js';


export function grantCovers(grant: ShareGrant, request: AccessRequest): boolean {
  if (request.action !== 'read' && request.action !== 'head') return false;
  if (request.store !== grant.store) return false;
  if (grant.key !== undefined) return request.key.value === grant.key;
  return grant.prefix !== undefined && request.key.value.startsWith(`${grant.prefix}/`);
}

/** Decorates the configured policy: share-link subjects get the link's decision, others the policy's. */
export function withShareLinks(inner: Policy): Policy {
  return {
    ...inner,
    async decide(request: AccessRequest, subject: Subject): Promise<Decision> {
      if (subject.via !== 'share-link') return inner.decide(request, subject);
      const grant = subject.share;
      if (grant === undefined) return { effect: 'deny', ruleId: 'share-link', reason: 'share link without a grant' };
      // The link id goes into the audit line; the token itself never does.
      return grantCovers(grant, request)
        ? { effect: 'allow', ruleId: 'share-link', reason: `share link ${grant.linkId} allowed` }
        : { effect: 'deny', ruleId: 'share-link', reason: `outside share link ${grant.linkId}` };
    },
  };
}
