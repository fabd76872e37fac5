// The audit's checks. Each one reports `unsupported` (with the server's answer) instead of
// failing when the S3 implementation lacks the API, so one audit runs against AWS, MinIO,
// Ceph or Swift and says exactly what it could and could not check.
import {
  GetBucketAclCommand,
  GetBucketPolicyCommand,
  GetObjectAclCommand,
  GetPublicAccessBlockCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { describeS3Error } from '../s3-client.js';
import { publicGrants, publicStatements } from './grants.js';

export type CheckStatus = 'ok' | 'public' | 'unsupported' | 'error';

export interface CheckResult {
  readonly check: 'bucket-acl' | 'bucket-policy' | 'public-access-block' | 'object-acls';
  readonly status: CheckStatus;
  readonly detail: string;
  /** Public objects (object-acls) or grants/statements (bucket checks). */
  readonly findings: string[];
}

export type AuditClient = Pick<S3Client, 'send'>;

export async function checkBucketAcl(client: AuditClient, bucket: string): Promise<CheckResult> {
  return guarded('bucket-acl', async () => {
    const acl = await client.send(new GetBucketAclCommand({ Bucket: bucket }));
    const findings = publicGrants(acl.Grants);
    return result('bucket-acl', findings, `${acl.Grants?.length ?? 0} grants`);
  });
}

export async function checkBucketPolicy(client: AuditClient, bucket: string): Promise<CheckResult> {
  return guarded('bucket-policy', async () => {
    try {
      const response = await client.send(new GetBucketPolicyCommand({ Bucket: bucket }));
      return result('bucket-policy', publicStatements(response.Policy ?? '{}'), 'policy present');
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchBucketPolicy') return result('bucket-policy', [], 'no bucket policy');
      throw error;
    }
  });
}

export async function checkPublicAccessBlock(client: AuditClient, bucket: string): Promise<CheckResult> {
  return guarded('public-access-block', async () => {
    try {
      const response = await client.send(new GetPublicAccessBlockCommand({ Bucket: bucket }));
      const c = response.PublicAccessBlockConfiguration ?? {};
      const flags = [c.BlockPublicAcls, c.IgnorePublicAcls, c.BlockPublicPolicy, c.RestrictPublicBuckets];
      // A server that ignores the ?publicAccessBlock subresource answers with something else
      // (Swift s3api: a bucket listing) that parses to an empty configuration.
      if (flags.every((f) => f === undefined)) return unsupported('public-access-block', 'the server answered without a PublicAccessBlockConfiguration');
      const missing = ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'].filter((_, i) => flags[i] !== true);
      return result(
        'public-access-block',
        missing.map((m) => `${m} is off`),
        'public-access block present',
      );
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchPublicAccessBlockConfiguration') {
        return result('public-access-block', ['no public-access block configured'], 'missing');
      }
      throw error;
    }
  });
}

export interface ObjectAclOptions {
  /** Check at most this many objects, chosen at random; all when absent. */
  readonly sample?: number;
  readonly concurrency: number;
  readonly onProgress?: (done: number, total: number) => void;
  readonly random?: () => number;
}

export async function checkObjectAcls(client: AuditClient, bucket: string, options: ObjectAclOptions): Promise<CheckResult> {
  return guarded('object-acls', async () => {
    const keys = sample(await listKeys(client, bucket), options.sample, options.random ?? Math.random);
    const findings: string[] = [];
    const limit = pLimit(options.concurrency);
    let done = 0;
    let unsupportedReason: string | undefined;
    await Promise.all(
      keys.map((key) =>
        limit(async () => {
          if (unsupportedReason !== undefined) return;
          try {
            const acl = await client.send(new GetObjectAclCommand({ Bucket: bucket, Key: key }));
            const grants = publicGrants(acl.Grants);
            if (grants.length > 0) findings.push(`${key} (${grants.join(', ')})`);
          } catch (error) {
            if (isUnsupported(error)) unsupportedReason = describeS3Error(error);
            else throw error;
          }
          done += 1;
          options.onProgress?.(done, keys.length);
        }),
      ),
    );
    if (unsupportedReason !== undefined) return unsupported('object-acls', unsupportedReason);
    findings.sort();
    return result('object-acls', findings, `${keys.length} objects checked`);
  });
}

export async function listKeys(client: AuditClient, bucket: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ...(token !== undefined && { ContinuationToken: token }) }));
    for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return keys;
}

/** NotImplemented / 501 / 405: the API does not exist on this server. */
export function isUnsupported(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  return e.name === 'NotImplemented' || status === 501 || status === 405;
}

function sample(keys: string[], size: number | undefined, random: () => number): string[] {
  if (size === undefined || size >= keys.length) return keys;
  // Partial Fisher-Yates: an unbiased random subset without sorting everything.
  const copy = [...keys];
  for (let i = 0; i < size; i++) {
    const j = i + Math.floor(random() * (copy.length - i));
    [copy[i], copy[j]] = [copy[j] as string, copy[i] as string];
  }
  return copy.slice(0, size);
}

function result(check: CheckResult['check'], findings: string[], detail: string): CheckResult {
  return { check, status: findings.length > 0 ? 'public' : 'ok', detail, findings };
}

function unsupported(check: CheckResult['check'], why: string): CheckResult {
  return { check, status: 'unsupported', detail: `not supported by this server (${why})`, findings: [] };
}

async function guarded(check: CheckResult['check'], run: () => Promise<CheckResult>): Promise<CheckResult> {
  try {
    return await run();
  } catch (error) {
    if (isUnsupported(error)) return unsupported(check, describeS3Error(error));
    return { check, status: 'error', detail: describeS3Error(error), findings: [] };
  }
}
