// `sluice migrate` against real Swift s3api: thousands of small files and a few multipart-sized
// ones, interrupted mid-way and resumed, then verified (and tampering caught).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { migrateCommand } from '../../src/cli/migrate-command.js';
import { validateConfig } from '../../src/config/load.js';
import { migrate } from '../../src/ops/migrate/engine.js';
import { readManifest } from '../../src/ops/migrate/manifest.js';
import { verifyMigration } from '../../src/ops/migrate/verify.js';
import { startSwiftS3, s3ClientFor, type S3TestServer } from '../helpers/swift.js';

const BUCKET = 'migrated';
const SMALL_FILES = 600;
const LARGE_SIZES = [10, 12, 16].map((mb) => mb * 1024 * 1024 + 12_345);

let s3: S3TestServer;
let client: S3Client;
let base: string;
let root: string;
let manifestFile: string;
const expected = new Map<string, string>();

async function put(dir: string, key: string, content: Buffer): Promise<void> {
  const file = path.join(dir, ...key.split('/'));
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
}

async function listAll(bucket: string): Promise<{ key: string; size: number }[]> {
  const objects: { key: string; size: number }[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const o of page.Contents ?? []) objects.push({ key: o.Key as string, size: o.Size ?? -1 });
    token = page.NextContinuationToken;
  } while (token !== undefined);
  return objects;
}

before(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'sluice-ops-migrate-'));
  root = path.join(base, 'store');
  manifestFile = path.join(base, 'manifest.jsonl');
  for (let i = 0; i < SMALL_FILES; i++) {
    const key = `docs/${String(i % 20).padStart(2, '0')}/file-${i}.txt`;
    const content = randomBytes(1024 + (i * 37) % 7168);
    expected.set(key, createHash('sha256').update(content).digest('hex'));
    await put(root, key, content);
  }
  for (const [i, size] of LARGE_SIZES.entries()) {
    const key = `videos/large ${i}.bin`;
    const content = randomBytes(size);
    expected.set(key, createHash('sha256').update(content).digest('hex'));
    await put(root, key, content);
  }
  await writeFile(path.join(base, 'outside.txt'), 'not part of the store');
  await symlink(path.join(base, 'outside.txt'), path.join(root, 'escape.txt'));
  s3 = await startSwiftS3();
  client = s3ClientFor(s3);
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

after(async () => {
  client?.destroy();
  await s3?.stop();
  if (base !== undefined) await rm(base, { recursive: true, force: true });
});

describe('sluice migrate (fs → Swift s3api)', () => {
  let firstRunCopied = 0;

  it('an interrupted run leaves the sources in place and a manifest of only verified copies', async () => {
    const controller = new AbortController();
    const report = await migrate({
      root,
      target: { client, bucket: BUCKET },
      manifestFile,
      concurrency: 8,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.doneFiles >= 200) controller.abort();
      },
    });
    assert.equal(report.interrupted, true);
    assert.ok(report.copied >= 200 && report.copied < expected.size, `copied ${report.copied}`);
    firstRunCopied = report.copied;
    for (const key of expected.keys()) assert.ok(existsSync(path.join(root, ...key.split('/'))), key);
    const manifest = await readManifest(manifestFile);
    assert.equal(manifest.size, report.copied);
    for (const entry of manifest.values()) assert.equal(entry.sha256, expected.get(entry.key));
  });

  it('a re-run skips the verified files, copies the rest and refuses the escaping symlink', async () => {
    const report = await migrate({ root, target: { client, bucket: BUCKET }, manifestFile, concurrency: 8 });
    assert.equal(report.interrupted, false);
    assert.equal(report.skipped, firstRunCopied);
    assert.equal(report.copied + report.skipped, expected.size);
    assert.deepEqual(report.failed, [{ key: 'escape.txt', reason: 'symlink leaves the store root' }]);
  });

  it('ends with every object present once, with the source size and SHA-256', async () => {
    const objects = await listAll(BUCKET);
    assert.equal(objects.length, expected.size);
    assert.deepEqual(new Set(objects.map((o) => o.key)), new Set(expected.keys()));
    const large = await readFile(path.join(root, 'videos', 'large 2.bin'));
    assert.equal(objects.find((o) => o.key === 'videos/large 2.bin')?.size, large.length);
    // The manifest's hashes are the sources' own; --verify holds every object to them.
    const manifest = await readManifest(manifestFile);
    for (const [key, sha256] of expected) assert.equal(manifest.get(key)?.sha256, sha256, key);
    const verified = await verifyMigration({ root, target: { client, bucket: BUCKET }, manifestFile, concurrency: 16 });
    assert.deepEqual(verified.failed, []);
    assert.equal(verified.checked, expected.size);
  });

  it('a dry run after completion has nothing left to copy', async () => {
    const report = await migrate({ root, target: { client, bucket: BUCKET }, manifestFile, concurrency: 4, dryRun: true });
    assert.equal(report.wouldCopy, 0);
    assert.equal(report.skipped, expected.size);
  });
});

describe('sluice migrate --verify and --delete-source', () => {
  let small: string;
  const smallManifest = (): string => path.join(base, 'small.jsonl');

  before(async () => {
    small = path.join(base, 'small');
    for (let i = 0; i < 6; i++) await put(small, `d/${i}.txt`, Buffer.from(`file number ${i}`));
    await client.send(new CreateBucketCommand({ Bucket: 'small' }));
    const report = await migrate({ root: small, target: { client, bucket: 'small' }, manifestFile: smallManifest(), concurrency: 2 });
    assert.equal(report.copied, 6);
  });

  it('catches a replaced object; --deep also catches same-size tampering with a forged hash', async () => {
    const target = { client, bucket: 'small' };
    await client.send(new PutObjectCommand({ Bucket: 'small', Key: 'd/0.txt', Body: 'tampered' }));
    const manifest = await readManifest(smallManifest());
    await client.send(
      new PutObjectCommand({ Bucket: 'small', Key: 'd/1.txt', Body: 'FILE NUMBER 1', Metadata: { sha256: manifest.get('d/1.txt')?.sha256 as string } }),
    );
    const shallow = await verifyMigration({ root: small, target, manifestFile: smallManifest(), concurrency: 4 });
    assert.deepEqual(shallow.failed.map((f) => f.key), ['d/0.txt']);
    assert.match(shallow.failed[0]?.reason ?? '', /size mismatch/);

    const deep = await verifyMigration({ root: small, target, manifestFile: smallManifest(), concurrency: 4, deep: true });
    assert.deepEqual(deep.failed.map((f) => f.key), ['d/0.txt', 'd/1.txt']);
    assert.match(deep.failed[1]?.reason ?? '', /content mismatch/);
  });

  it('deletes only sources whose objects verify, and fails (keeping the source) for a bad target', async () => {
    const failing = await migrate({ root: small, target: { client, bucket: 'no-such-bucket' }, manifestFile: path.join(base, 'none.jsonl'), concurrency: 2, deleteSource: true });
    assert.equal(failing.copied, 0);
    assert.equal(failing.failed.length, 6);
    assert.equal(failing.deleted, 0);

    const report = await migrate({ root: small, target: { client, bucket: 'small' }, manifestFile: smallManifest(), concurrency: 2, deleteSource: true });
    // d/0 was replaced: its object no longer verifies, so its source stays. (d/1's forgery kept
    // size and hash metadata: only `--verify --deep` sees it, which is why it is run first.)
    assert.equal(report.deleted, 5);
    assert.deepEqual(report.failed.map((f) => f.key), ['d/0.txt']);
    for (let i = 0; i < 6; i++) assert.equal(existsSync(path.join(small, 'd', `${i}.txt`)), i === 0, `d/${i}.txt`);
  });
});

describe('the `sluice migrate` command', () => {
  it('copies with --json output, then --verify confirms the migration', async () => {
    const cliRoot = path.join(base, 'cli');
    for (let i = 0; i < 4; i++) await put(cliRoot, `x/${i}.txt`, Buffer.from(`cli ${i}`));
    await client.send(new CreateBucketCommand({ Bucket: 'cli' }));
    const config = validateConfig({
      stores: {
        src: { type: 'fs', root: cliRoot },
        dst: { type: 's3', bucket: 'cli', endpoint: s3.endpoint, forcePathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      },
    });
    const manifest = path.join(base, 'cli.jsonl');
    let out = '';
    const write = (text: string): void => void (out += text);
    await migrateCommand(() => config, write).parseAsync(['--from', 'src', '--to', 'dst', '--manifest', manifest, '--json'], { from: 'user' });
    const report = JSON.parse(out) as { copied: number; failed: unknown[] };
    assert.equal(report.copied, 4);
    assert.deepEqual(report.failed, []);
    out = '';
    await migrateCommand(() => config, write).parseAsync(['--from', 'src', '--to', 'dst', '--manifest', manifest, '--verify'], { from: 'user' });
    assert.equal(out, 'verified 4/4 objects\n');
    await assert.rejects(
      migrateCommand(() => config, write).parseAsync(['--from', 'dst', '--to', 'src'], { from: 'user' }),
      /store "dst" is an s3 store, expected fs/,
    );
  });

  it('refuses to copy plaintext into an encrypted store (bytes are copied unchanged)', async () => {
    const s3Settings = { type: 's3', bucket: 'cli', endpoint: s3.endpoint, forcePathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey };
    const config = validateConfig({ stores: { src: { type: 'fs', root: path.join(base, 'cli') }, vault: { ...s3Settings, encrypted: true } } });
    await assert.rejects(
      migrateCommand(() => config, () => undefined).parseAsync(['--from', 'src', '--to', 'vault'], { from: 'user' }),
      /store "vault" is encrypted and the other is not: migrate copies bytes unchanged/,
    );
  });
});
