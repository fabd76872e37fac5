// A share link grants at most the intersection of two things, both checked at every use:
//   - its own scope: read/head of exactly its key (or of keys under its prefix) in its store —
//     never transform, share or write;
//   - what its creator may do NOW: the policy is asked, as the creator (their sub and the claims
//     of the token they minted with), for `share` and for the requested action on the concrete
//     key. A deny rule, a changed rule, a webhook or plugin saying no, or a time window that
//     closed takes effect on links already handed out. A prefix link is therefore re-checked per
//     key: a deny below the prefix is never outranked by the link.
// A link signed offline with a sharing key (no creator) has only its scope: whoever holds that
// key can sign any scope, so a re-check would have no one to ask about.
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
      if (grant === undefined) return deny('share link without a grant');
      // The link id goes into the audit line; the token itself never does.
      if (!grantCovers(grant, request)) return deny(`outside share link ${grant.linkId}`);
      if (grant.creator === null) return { effect: 'allow', ruleId: 'share-link', reason: `share link ${grant.linkId} allowed (signed with a sharing key)` };
      const shared = await inner.decide({ ...request, action: 'share' }, grant.creator);
      if (shared.effect !== 'allow') return deny(`share link ${grant.linkId}: its creator may no longer share this key (${shared.reason})`, shared);
      const used = await inner.decide(request, grant.creator);
      if (used.effect !== 'allow') return deny(`share link ${grant.linkId}: its creator may no longer ${request.action} this key (${used.reason})`, used);
      return {
        effect: 'allow',
        ruleId: 'share-link',
        reason: `share link ${grant.linkId} allowed (creator: ${used.reason})`,
        // The bandwidth of the rule that lets the creator read applies to the holder too.
        ...(used.limitRate === undefined ? {} : { limitRate: used.limitRate }),
      };
    },
  };
}

function deny(reason: string, creatorDecision?: Decision): Decision {
  return {
    effect: 'deny',
    ruleId: 'share-link',
    reason,
    ...(creatorDecision?.source === undefined ? {} : { source: creatorDecision.source }),
  };
}
