// The audit's logic against a stub S3 (what AWS would answer); the integration test covers Swift.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { auditBucket } from '../../src/ops/audit/audit.js';
import type { AuditClient } from '../../src/ops/audit/checks.js';
import { publicGrants, publicStatements } from '../../src/ops/audit/grants.js';

const ALL_USERS = { Type: 'Group', URI: 'http://acs.amazonaws.com/groups/global/AllUsers' };
const OWNER_ONLY = { Grants: [{ Grantee: { Type: 'CanonicalUser', ID: 'owner' }, Permission: 'FULL_CONTROL' }] };

class ServiceError extends Error {
  constructor(
    name: string,
    readonly $metadata: { httpStatusCode: number },
  ) {
    super(name);
    this.name = name;
  }
}

/** A stub S3 with per-object ACLs that PutObjectAcl really changes. */
function stubS3(options: { publicKeys: string[]; keys: string[]; policy?: string; pab?: 'missing' | 'full' | 'unsupported'; putAclFails?: boolean }) {
  const acls = new Map(options.keys.map((k) => [k, options.publicKeys.includes(k) ? 'public-read' : 'private']));
  const calls: string[] = [];
  const client: AuditClient = {
    send: (async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = command.constructor.name;
      calls.push(name);
      const input = command.input;
      switch (name) {
        case 'GetBucketAclCommand':
          return OWNER_ONLY;
        case 'GetBucketPolicyCommand':
          if (options.policy === undefined) throw new ServiceError('NoSuchBucketPolicy', { httpStatusCode: 404 });
          return { Policy: options.policy };
        case 'GetPublicAccessBlockCommand':
          if (options.pab === 'missing') throw new ServiceError('NoSuchPublicAccessBlockConfiguration', { httpStatusCode: 404 });
          if (options.pab === 'unsupported') return { PublicAccessBlockConfiguration: {} };
          return { PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true } };
        case 'ListObjectsV2Command': {
          const start = input.ContinuationToken === undefined ? 0 : Number(input.ContinuationToken);
          const page = options.keys.slice(start, start + 2);
          const more = start + 2 < options.keys.length;
          return { Contents: page.map((Key) => ({ Key })), IsTruncated: more, ...(more && { NextContinuationToken: String(start + 2) }) };
        }
        case 'GetObjectAclCommand':
          return acls.get(input.Key as string) === 'public-read' ? { Grants: [...OWNER_ONLY.Grants, { Grantee: ALL_USERS, Permission: 'READ' }] } : OWNER_ONLY;
        case 'PutObjectAclCommand':
          if (options.putAclFails) throw new ServiceError('NotImplemented', { httpStatusCode: 501 });
          acls.set(input.Key as string, input.ACL as string);
          return {};
        default:
          throw new Error(`unexpected ${name}`);
      }
    }) as AuditClient['send'],
  };
  return { client, calls, acls };
}

describe('audit-bucket', () => {
  const keys = ['a.txt', 'b.txt', 'dir/c.txt', 'dir/d (1).txt', 'e.txt'];

  it('finds public objects across pages and --fix makes them private', async () => {
    const s3 = stubS3({ keys, publicKeys: ['b.txt', 'dir/d (1).txt'], pab: 'full' });
    const report = await auditBucket(s3.client, 'bucket', { concurrency: 2 });
    assert.equal(report.publicFound, true);
    const objects = report.checks.find((c) => c.check === 'object-acls');
    assert.deepEqual(objects?.findings, ['b.txt (AllUsers:READ)', 'dir/d (1).txt (AllUsers:READ)']);
    assert.equal(objects?.detail, '5 objects checked');

    const fixed = await auditBucket(s3.client, 'bucket', { concurrency: 2, fix: true });
    assert.deepEqual(fixed.fix?.fixed.sort(), ['b.txt', 'dir/d (1).txt']);
    assert.equal(fixed.publicFound, false);
    const again = await auditBucket(s3.client, 'bucket', { concurrency: 2 });
    assert.equal(again.publicFound, false);
  });

  it('--sample checks only N objects', async () => {
    const s3 = stubS3({ keys, publicKeys: [], pab: 'full' });
    const report = await auditBucket(s3.client, 'bucket', { concurrency: 2, sample: 2 });
    assert.equal(s3.calls.filter((c) => c === 'GetObjectAclCommand').length, 2);
    assert.equal(report.checks.find((c) => c.check === 'object-acls')?.detail, '2 objects checked');
  });

  it('a policy granting * and a missing public-access block are public findings', async () => {
    const policy = JSON.stringify({ Statement: [{ Sid: 'open', Effect: 'Allow', Principal: '*', Action: 's3:GetObject' }] });
    const report = await auditBucket(stubS3({ keys: [], publicKeys: [], policy, pab: 'missing' }).client, 'bucket', { concurrency: 1 });
    const byCheck = Object.fromEntries(report.checks.map((c) => [c.check, c]));
    assert.equal(byCheck['bucket-policy']?.status, 'public');
    assert.equal(byCheck['public-access-block']?.status, 'public');
    assert.equal(report.publicFound, true);
  });

  it('an unsupported API is reported per check, and a fix the server cannot do is a failure', async () => {
    const s3 = stubS3({ keys, publicKeys: ['a.txt'], pab: 'unsupported', putAclFails: true });
    const report = await auditBucket(s3.client, 'bucket', { concurrency: 2, fix: true });
    assert.equal(report.checks.find((c) => c.check === 'public-access-block')?.status, 'unsupported');
    assert.match(report.fix?.failed[0]?.reason ?? '', /not supported by this server/);
    assert.equal(report.publicFound, true);
  });
});

describe('public grants and statements', () => {
  it('recognises AllUsers and AuthenticatedUsers grants only', () => {
    assert.deepEqual(
      publicGrants([
        { Grantee: ALL_USERS, Permission: 'READ' },
        { Grantee: { Type: 'Group', URI: 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers' }, Permission: 'READ_ACP' },
        { Grantee: { Type: 'Group', URI: 'http://acs.amazonaws.com/groups/s3/LogDelivery' }, Permission: 'WRITE' },
        ...OWNER_ONLY.Grants,
      ] as never),
      ['AllUsers:READ', 'AuthenticatedUsers:READ_ACP'],
    );
  });

  it('recognises "*" principals in Allow statements', () => {
    const doc = (statement: unknown): string => JSON.stringify({ Statement: statement });
    assert.equal(publicStatements(doc({ Effect: 'Allow', Principal: { AWS: '*' }, Action: 's3:GetObject' })).length, 1);
    assert.equal(publicStatements(doc([{ Effect: 'Allow', Principal: { AWS: ['arn:x', '*'] } }])).length, 1);
    assert.equal(
      publicStatements(
        doc([
          { Effect: 'Deny', Principal: '*' },
          { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::1:root' } },
        ]),
      ).length,
      0,
    );
  });
});
