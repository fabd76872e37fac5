// What counts as "readable without Sluice" in S3 access-control documents.
import type { Grant } from '@aws-sdk/client-s3';

const PUBLIC_GROUPS: Record<string, string> = {
  'http://acs.amazonaws.com/groups/global/AllUsers': 'AllUsers',
  'http://acs.amazonaws.com/groups/global/AuthenticatedUsers': 'AuthenticatedUsers',
};

/** "AllUsers:READ"-style descriptions of grants to everyone or to any AWS account. */
export function publicGrants(grants: readonly Grant[] | undefined): string[] {
  return (grants ?? []).flatMap((grant) => {
    const group = grant.Grantee?.URI === undefined ? undefined : PUBLIC_GROUPS[grant.Grantee.URI];
    return group === undefined ? [] : [`${group}:${grant.Permission ?? '?'}`];
  });
}

interface PolicyStatement {
  Effect?: unknown;
  Principal?: unknown;
  Action?: unknown;
  Sid?: unknown;
}

/** Allow statements whose principal is everyone ("*" or {"AWS": "*"}). */
export function publicStatements(policyJson: string): string[] {
  const policy = JSON.parse(policyJson) as { Statement?: PolicyStatement | PolicyStatement[] };
  const statements = Array.isArray(policy.Statement) ? policy.Statement : policy.Statement === undefined ? [] : [policy.Statement];
  return statements
    .filter((s) => s.Effect === 'Allow' && isEveryone(s.Principal))
    .map((s, index) => `${typeof s.Sid === 'string' ? s.Sid : `statement ${index}`} allows ${JSON.stringify(s.Action)} to *`);
}

function isEveryone(principal: unknown): boolean {
  if (principal === '*') return true;
  if (principal !== null && typeof principal === 'object') {
    const aws = (principal as { AWS?: unknown }).AWS;
    return aws === '*' || (Array.isArray(aws) && aws.includes('*'));
  }
  return false;
}
