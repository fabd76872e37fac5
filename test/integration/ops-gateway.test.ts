// Operator commands against real Swift s3api and the running gateway (real nginx): dynamic
// buckets across a period boundary, CLI-signed share links, and the bucket privacy audit.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, ListBucketsCommand, PutObjectAclCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { auditBucketCommand } from '../../src/cli/audit-bucket-command.js';
import { bucketsCommand } from '../../src/cli/buckets-command.js';
import { signCommand } from '../../src/cli/sign-command.js';
import { auditBucket } from '../../src/ops/audit/audit.js';
import { bucketForPeriod } from '../../src/config/dynamic-bucket.js';
import { request } from '../helpers/http.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { startSwiftS3, s3ClientFor, type S3TestServer, s3StoreAccess } from '../helpers/swift.js';
import { bearer, testAuthConfig } from '../helpers/tokens.js';

const LEGACY_BUCKET = 'media-legacy';
const TEMPLATE = 'media-<year>-<month>-<suffix>';
const BUCKET_SECRET = 'dynamic-bucket-secret-0123456789abcdef';
const SHARE_KEY = { kid: 'cli1', secret: 'cli-share-link-secret-0123456789abcdef' };
const TRANSFORM_KEY = '943b421c9eb07c830af81030552c86009268de4e532ba2ee2eab8247c6da0881';
const TRANSFORM_SALT = '520f986b998545b4785e0defbc4f3c1203f22de2374a3d53cb7a7fe9fea309c5';

let s3: S3TestServer;
let client: S3Client;
let stack: Stack;
let photos: string;

async function run(command: { parseAsync(argv: string[], options: { from: 'user' }): Promise<unknown> }, args: string[]): Promise<void> {
  await command.parseAsync(args, { from: 'user' });
}

function capture(): { write: (text: string) => void; text: () => string } {
  let out = '';
  return { write: (t) => void (out += t), text: () => out };
}

before(async () => {
  s3 = await startSwiftS3();
  client = s3ClientFor(s3);
  await client.send(new CreateBucketCommand({ Bucket: LEGACY_BUCKET }));
  await client.send(new PutObjectCommand({ Bucket: LEGACY_BUCKET, Key: 'old/report.txt', Body: 'from before dynamic buckets' }));
  photos = await mkdtemp(path.join(os.tmpdir(), 'sluice-ops-photos-'));
  await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3366cc' } })
    .jpeg()
    .toFile(path.join(photos, 'a.jpg'));
  stack = await startStack(
    {
      stores: {
        photos: { type: 'fs', root: photos },
        media: {
          type: 's3',
          bucket: LEGACY_BUCKET,
          bucketTemplate: TEMPLATE,
          bucketSecret: BUCKET_SECRET,
          ...s3StoreAccess(s3),
        },
      },
      auth: testAuthConfig,
      rules: [{ id: 'staff', key: '*rest', actions: ['read', 'head', 'transform'], when: [{ claim: 'sub', equals: 'staff' }] }],
      sharing: { keys: [SHARE_KEY] },
      transform: { enabled: true, keys: [TRANSFORM_KEY], salts: [TRANSFORM_SALT], localStore: 'photos' },
      worker: { secret: 'ops-worker-secret-0123456789abcdef0123' },
    },
    { worker: true },
  );
});

after(async () => {
  await stack?.stop();
  client?.destroy();
  await s3?.stop();
  if (photos !== undefined) await rm(photos, { recursive: true, force: true });
});

describe('dynamic buckets', () => {
  const november = bucketForPeriod(TEMPLATE, BUCKET_SECRET, '2026-11');
  const december = bucketForPeriod(TEMPLATE, BUCKET_SECRET, '2026-12');
  const january = bucketForPeriod(TEMPLATE, BUCKET_SECRET, '2027-01');

  it("`buckets ensure` creates this and next period's bucket, idempotently, across a month boundary", async () => {
    const out = capture();
    await run(
      bucketsCommand(() => stack.config, out.write),
      ['ensure', '--at', '2026-11-30T23:59:00Z'],
    );
    assert.equal(out.text(), `media\t2026-11\t${november}\tcreated\nmedia\t2026-12\t${december}\tcreated\n`);
    const later = capture();
    await run(
      bucketsCommand(() => stack.config, later.write),
      ['ensure', '--at', '2026-12-01T00:01:00Z'],
    );
    assert.equal(later.text(), `media\t2026-12\t${december}\texists\nmedia\t2027-01\t${january}\tcreated\n`);
    const names = (await client.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name) ?? [];
    for (const bucket of [november, december, january]) assert.ok(names.includes(bucket), bucket);
    assert.match(november, /^media-2026-11-[0-9a-f]{10}$/);
  });

  it("reads find the period's bucket from the key, on both sides of the boundary, through nginx", async () => {
    const where = capture();
    await run(
      bucketsCommand(() => stack.config, where.write),
      ['current', '--at', '2026-11-30T23:59:59Z'],
    );
    assert.equal(where.text(), `media\t2026-11/\t${november}\n`);
    await client.send(new PutObjectCommand({ Bucket: november, Key: 'scans/a.txt', Body: 'written in november' }));
    await client.send(new PutObjectCommand({ Bucket: december, Key: 'scans/a.txt', Body: 'written in december' }));
    const staff = await bearer('staff');
    const nov = await request(stack.port, '/files/media/2026-11/scans/a.txt', { headers: staff });
    assert.equal(nov.status, 200);
    assert.equal(nov.text(), 'written in november');
    const dec = await request(stack.port, '/files/media/2026-12/scans/a.txt', { headers: staff });
    assert.equal(dec.text(), 'written in december');
    const legacy = await request(stack.port, '/files/media/old/report.txt', { headers: staff });
    assert.equal(legacy.text(), 'from before dynamic buckets');
    assert.equal((await request(stack.port, '/files/media/2027-01/scans/a.txt', { headers: staff })).status, 404);
    assert.equal((await request(stack.port, '/files/media/2026-11/scans/a.txt')).status, 401);
  });
});

describe('sluice sign share', () => {
  it('mints a link the running gateway honours for exactly its key', async () => {
    const out = capture();
    await run(
      signCommand(() => stack.config, out.write),
      ['share', '--store', 'media', '--key', '2026-11/scans/a.txt', '--expires-in', '600', '--json'],
    );
    const link = JSON.parse(out.text()) as { url: string; token: string };
    assert.match(link.url, /^\/files\/media\/2026-11\/scans\/a\.txt\?share=/);
    const res = await request(stack.port, link.url);
    assert.equal(res.status, 200);
    assert.equal(res.text(), 'written in november');
    assert.equal((await request(stack.port, `/files/media/2026-12/scans/a.txt?share=${link.token}`)).status, 401);
  });

  it('refuses --max-downloads without shared state', async () => {
    await assert.rejects(
      run(
        signCommand(
          () => stack.config,
          () => undefined,
        ),
        ['share', '--store', 'media', '--key', 'a', '--expires-in', '60', '--max-downloads', '1'],
      ),
      /needs redisUrl/,
    );
  });
});

describe('sluice sign transform', () => {
  it('prints a path the running gateway renders, and a changed path is refused', async () => {
    const out = capture();
    await run(
      signCommand(() => stack.config, out.write),
      ['transform', '/rs:fit:32:32/plain/local:///a.jpg@webp'],
    );
    const signedPath = out.text().trim();
    const staff = await bearer('staff');
    const res = await request(stack.port, signedPath, { headers: staff });
    assert.equal(res.status, 200, res.text());
    assert.equal(res.headers['content-type'], 'image/webp');
    const meta = await sharp(res.body).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['webp', 32, 24]);
    assert.equal((await request(stack.port, signedPath.replace('32:32', '33:32'), { headers: staff })).status, 403);
  });
});

describe('sluice audit-bucket on Swift s3api', () => {
  it('reports per check what the server supports, and finds nothing public in a fresh bucket', async () => {
    const report = await auditBucket(client, LEGACY_BUCKET, { concurrency: 4 });
    const status = Object.fromEntries(report.checks.map((c) => [c.check, c.status]));
    assert.deepEqual(status, { 'bucket-acl': 'ok', 'bucket-policy': 'unsupported', 'public-access-block': 'unsupported', 'object-acls': 'ok' });
    assert.equal(report.publicFound, false);
    const out = capture();
    await run(
      auditBucketCommand(() => stack.config, out.write),
      ['media', '--sample', '1'],
    );
    assert.match(out.text(), /bucket-policy\s+unsupported\s+not supported by this server/);
    assert.match(out.text(), /RESULT: nothing public found/);
  });

  it('Swift s3api cannot make an object public: PutObjectAcl is not implemented', async () => {
    await assert.rejects(
      client.send(new PutObjectAclCommand({ Bucket: LEGACY_BUCKET, Key: 'old/report.txt', ACL: 'public-read' })),
      (error: Error & { $metadata?: { httpStatusCode?: number } }) => error.name === 'NotImplemented' && error.$metadata?.httpStatusCode === 501,
    );
  });
});
