// `sluice audit-bucket`: everything that would let someone read a store's objects without
// going through Sluice, and (--fix) the reset of object ACLs to private.
import { PutBucketAclCommand, PutObjectAclCommand } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { describeS3Error } from '../s3-client.js';
import {
  checkBucketAcl,
  checkBucketPolicy,
  checkObjectAcls,
  checkPublicAccessBlock,
  isUnsupported,
  type AuditClient,
  type CheckResult,
  type ObjectAclOptions,
} from './checks.js';

export interface AuditReport {
  readonly bucket: string;
  readonly checks: CheckResult[];
  readonly fix?: FixReport;
  /** True while anything public is left (after fixing, when asked to fix). */
  readonly publicFound: boolean;
}

export interface FixReport {
  readonly fixed: string[];
  readonly failed: { target: string; reason: string }[];
}

/** Object keys are recovered from findings written as "<key> (<grants>)". */
const FINDING_KEY = /^(.*) \([^()]*\)$/;

export async function auditBucket(client: AuditClient, bucket: string, options: ObjectAclOptions & { fix?: boolean }): Promise<AuditReport> {
  const checks = [
    await checkBucketAcl(client, bucket),
    await checkBucketPolicy(client, bucket),
    await checkPublicAccessBlock(client, bucket),
    await checkObjectAcls(client, bucket, options),
  ];
  if (!options.fix) return { bucket, checks, publicFound: checks.some((c) => c.status === 'public') };

  const fix: FixReport = { fixed: [], failed: [] };
  const reset = async (target: string, send: () => Promise<unknown>): Promise<void> => {
    try {
      await send();
      fix.fixed.push(target);
    } catch (error) {
      fix.failed.push({ target, reason: isUnsupported(error) ? `not supported by this server (${describeS3Error(error)})` : describeS3Error(error) });
    }
  };
  const [bucketAcl, , , objectAcls] = checks;
  if (bucketAcl?.status === 'public') await reset(`bucket ${bucket}`, () => client.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'private' })));
  const keys = (objectAcls?.findings ?? []).map((f) => FINDING_KEY.exec(f)?.[1] ?? f);
  const limit = pLimit(options.concurrency);
  let done = 0;
  await Promise.all(
    keys.map((key) =>
      limit(async () => {
        await reset(key, () => client.send(new PutObjectAclCommand({ Bucket: bucket, Key: key, ACL: 'private' })));
        done += 1;
        options.onProgress?.(done, keys.length);
      }),
    ),
  );
  // Policies and the public-access block are the operator's to change: --fix only resets ACLs.
  const stillPublic = checks.some((c) => c.status === 'public' && c.check !== 'object-acls' && c.check !== 'bucket-acl');
  return { bucket, checks, fix, publicFound: stillPublic || fix.failed.length > 0 };
}
