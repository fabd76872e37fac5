// `sluice migrate` against real Swift s3api: thousands of small files and a few multipart-sized
// ones, interrupted mid-way and resumed, then verified (and tampering caught).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { migrateCommand } from '../../src/cli/migrate-command.js';
import { validateConfig } from '../../src/config/load.js';
import { migrate, type Progress } from '../../src/ops/migrate/engine.js';
import { readManifest } from '../../src/ops/migrate/manifest.js';
import { progressLine } from '../../src/ops/migrate/progress.js';
import { verifyMigration } from '../../src/ops/migrate/verify.js';
import { startSwiftS3, s3ClientFor, type S3TestServer, s3StoreAccess } from '../helpers/swift.js';

const BUCKET = 'migrated';
const SMALL_FILES = 600;
const LARGE_SIZES = [10, 12, 16].map((mb) => mb * 1024 * 1024 + 12_345);

/** Process warnings seen while this file runs (MaxListenersExceededWarning must never be one). */
const warnings: Error[] = [];
process.on('warning', (warning) => warnings.push(warning));

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
    const content = randomBytes(1024 + ((i * 37) % 7168));
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

  it('a dry run lists exactly the files left to copy, and writes nothing', async () => {
    const manifestBefore = await readFile(manifestFile);
    const report = await migrate({ root, target: { client, bucket: BUCKET }, manifestFile, concurrency: 4, dryRun: true, deleteSource: true });
    const done = await readManifest(manifestFile);
    const left = [...expected.keys()].filter((key) => !done.has(key)).sort();
    assert.deepEqual(
      report.plan?.filter((p) => p.action === 'copy').map((p) => p.key),
      left,
    );
    assert.ok(report.plan?.filter((p) => p.action === 'copy').every((p) => p.reason === 'new'));
    // With --delete-source it also lists the verified sources it would delete — and deletes none.
    assert.deepEqual(
      report.plan
        ?.filter((p) => p.action === 'delete')
        .map((p) => p.key)
        .sort(),
      [...done.keys()].sort(),
    );
    assert.equal(report.wouldCopy, left.length);
    assert.equal(report.deleted, 0);
    for (const key of expected.keys()) assert.ok(existsSync(path.join(root, ...key.split('/'))), key);
    assert.deepEqual(await readFile(manifestFile), manifestBefore);
    // (The bucket is not compared here: a PUT the interrupted run abandoned may still land
    // server-side. The command test below checks a dry run against an untouched bucket.)
  });

  it('a re-run skips the verified files, copies the rest and refuses the escaping symlink', async () => {
    const report = await migrate({ root, target: { client, bucket: BUCKET }, manifestFile, concurrency: 16 });
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
    const seen: Progress[] = [];
    const verified = await verifyMigration({ root, target: { client, bucket: BUCKET }, manifestFile, concurrency: 16, onProgress: (p) => seen.push(p) });
    assert.deepEqual(verified.failed, []);
    assert.equal(verified.checked, expected.size);
    // Progress while verifying counts bytes, not just objects: the figures operators read move.
    const totalBytes = [...manifest.values()].reduce((sum, e) => sum + e.size, 0);
    assert.equal(seen.length, expected.size);
    assert.ok(seen.every((p) => p.totalBytes === totalBytes && p.totalFiles === expected.size));
    const last = seen.at(-1) as Progress;
    assert.equal(last.doneBytes, totalBytes);
    const middle = seen[Math.floor(seen.length / 2)] as Progress;
    assert.ok(middle.doneBytes > 0 && middle.doneBytes < totalBytes);
    const line = progressLine('verify', middle, 2_000);
    const mb = (totalBytes / 1_048_576).toFixed(1);
    assert.match(
      line,
      new RegExp(
        `^verify: ${middle.doneFiles}/${expected.size} files, \\d+\\.\\d/${mb.replace('.', '\\.')} MB, \\d+\\.\\d (KB|MB)/s, ETA (\\d+h)?(\\d+m)?\\d+s$`,
      ),
    );
    assert.doesNotMatch(line, / 0\.0\/| 0\.0 (KB|MB)\/s|ETA \?/);
  });

  it('a dry run after completion has nothing left to copy', async () => {
    const report = await migrate({ root, target: { client, bucket: BUCKET }, manifestFile, concurrency: 4, dryRun: true });
    assert.equal(report.wouldCopy, 0);
    assert.equal(report.skipped, expected.size);
  });
});

describe('process warnings', () => {
  it('parallel copies and verifications (concurrency 16) never pile abort listeners onto one signal', () => {
    assert.deepEqual(
      warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message),
      [],
    );
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
    assert.deepEqual(
      shallow.failed.map((f) => f.key),
      ['d/0.txt'],
    );
    assert.match(shallow.failed[0]?.reason ?? '', /size mismatch/);

    const deep = await verifyMigration({ root: small, target, manifestFile: smallManifest(), concurrency: 4, deep: true });
    assert.deepEqual(
      deep.failed.map((f) => f.key),
      ['d/0.txt', 'd/1.txt'],
    );
    assert.match(deep.failed[1]?.reason ?? '', /content mismatch/);
  });

  it('deletes only sources whose objects verify, and fails (keeping the source) for a bad target', async () => {
    const failing = await migrate({
      root: small,
      target: { client, bucket: 'no-such-bucket' },
      manifestFile: path.join(base, 'none.jsonl'),
      concurrency: 2,
      deleteSource: true,
    });
    assert.equal(failing.copied, 0);
    assert.equal(failing.failed.length, 6);
    assert.equal(failing.deleted, 0);

    const report = await migrate({ root: small, target: { client, bucket: 'small' }, manifestFile: smallManifest(), concurrency: 2, deleteSource: true });
    // d/0 was replaced: its object no longer verifies, so its source stays. (d/1's forgery kept
    // size and hash metadata: only `--verify --deep` sees it, which is why it is run first.)
    assert.equal(report.deleted, 5);
    assert.deepEqual(
      report.failed.map((f) => f.key),
      ['d/0.txt'],
    );
    for (let i = 0; i < 6; i++) assert.equal(existsSync(path.join(small, 'd', `${i}.txt`)), i === 0, `d/${i}.txt`);
    assert.equal(report.removedDirectories, 0, 'd/ still holds d/0.txt');
  });

  it('removes the directories --delete-source empties (deepest first), never the root or other empty ones', async () => {
    const tree = path.join(base, 'tree');
    for (const key of ['a/b/c/1.txt', 'a/b/2.txt', 'a/3.txt', 'x/y/4.txt', 'top.txt']) await put(tree, key, Buffer.from(key));
    await mkdir(path.join(tree, 'was-empty', 'inner'), { recursive: true });
    await mkdir(path.join(tree, 'links'));
    await writeFile(path.join(base, 'outside-tree.txt'), 'outside');
    await symlink(path.join(base, 'outside-tree.txt'), path.join(tree, 'links', 'escape.txt'));
    await client.send(new CreateBucketCommand({ Bucket: 'tree' }));
    const report = await migrate({
      root: tree,
      target: { client, bucket: 'tree' },
      manifestFile: path.join(base, 'tree.jsonl'),
      concurrency: 4,
      deleteSource: true,
    });
    assert.equal(report.deleted, 5);
    assert.deepEqual(
      report.failed.map((f) => f.key),
      ['links/escape.txt'],
    );
    // a/b/c, a/b, a, x/y, x: five directories emptied by the deletes.
    assert.equal(report.removedDirectories, 5);
    assert.deepEqual((await readdir(tree)).sort(), ['links', 'was-empty']);
    assert.deepEqual(await readdir(path.join(tree, 'was-empty')), ['inner']);
    assert.equal((await listAll('tree')).length, 5);
  });

  it('an interrupted --delete-source run keeps what it deleted (each one verified and in the manifest first); the rest stay', async () => {
    const many = path.join(base, 'many');
    const sums = new Map<string, string>();
    for (let i = 0; i < 120; i++) {
      const content = randomBytes(512 + i);
      sums.set(`m/${i % 4}/${i}.bin`, createHash('sha256').update(content).digest('hex'));
      await put(many, `m/${i % 4}/${i}.bin`, content);
    }
    await client.send(new CreateBucketCommand({ Bucket: 'many' }));
    const manifestPath = path.join(base, 'many.jsonl');
    const controller = new AbortController();
    const report = await migrate({
      root: many,
      target: { client, bucket: 'many' },
      manifestFile: manifestPath,
      concurrency: 4,
      deleteSource: true,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.doneFiles >= 30) controller.abort();
      },
    });
    assert.equal(report.interrupted, true);
    assert.ok(report.deleted >= 30 && report.deleted < 120, `deleted ${report.deleted}`);
    const manifest = await readManifest(manifestPath);
    const stored = new Map((await listAll('many')).map((o) => [o.key, o.size]));
    let gone = 0;
    for (const [key, sha256] of sums) {
      if (existsSync(path.join(many, ...key.split('/')))) continue;
      gone += 1;
      assert.equal(manifest.get(key)?.sha256, sha256, `${key} was deleted without a verified manifest entry`);
      assert.ok(stored.has(key), `${key} was deleted but is not in the bucket`);
    }
    assert.equal(gone, report.deleted);
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
    // --dry-run lists what it would copy (text and --json), and copies nothing.
    await migrateCommand(() => config, write).parseAsync(['--from', 'src', '--to', 'dst', '--manifest', manifest, '--dry-run'], { from: 'user' });
    assert.deepEqual(
      out.split('\n').slice(0, 4),
      [0, 1, 2, 3].map((i) => `would copy x/${i}.txt (${`cli ${i}`.length} bytes, new)`),
    );
    assert.match(out, /^dry run: 4 to copy \(0\.0 MB\), 0 already verified; nothing was written or deleted$/m);
    out = '';
    await migrateCommand(() => config, write).parseAsync(['--from', 'src', '--to', 'dst', '--manifest', manifest, '--dry-run', '--json'], { from: 'user' });
    const plan = JSON.parse(out) as { wouldCopy: number; plan: { key: string; size: number; action: string; reason: string }[] };
    assert.equal(plan.wouldCopy, 4);
    assert.deepEqual(
      plan.plan,
      [0, 1, 2, 3].map((i) => ({ key: `x/${i}.txt`, size: `cli ${i}`.length, action: 'copy', reason: 'new' })),
    );
    assert.equal((await listAll('cli')).length, 0);
    assert.equal(existsSync(manifest), false);
    out = '';
    await migrateCommand(() => config, write).parseAsync(['--from', 'src', '--to', 'dst', '--manifest', manifest, '--json'], { from: 'user' });
    const report = JSON.parse(out) as { copied: number; failed: unknown[] };
    assert.equal(report.copied, 4);
    assert.deepEqual(report.failed, []);
    out = '';
    await migrateCommand(() => config, write).parseAsync(['--from', 'src', '--to', 'dst', '--manifest', manifest, '--verify'], { from: 'user' });
    assert.equal(out, 'verified 4/4 objects (size and sha256 metadata only; --deep hashes the bytes)\n');
    out = '';
    await migrateCommand(() => config, write).parseAsync(['--from', 'src', '--to', 'dst', '--manifest', manifest, '--verify', '--deep'], { from: 'user' });
    assert.equal(out, 'verified 4/4 objects\n');
    await assert.rejects(
      migrateCommand(() => config, write).parseAsync(['--from', 'dst', '--to', 'src'], { from: 'user' }),
      /store "dst" is an s3 store, expected fs/,
    );
  });

  it('refuses to copy plaintext into an encrypted store (bytes are copied unchanged)', async () => {
    const s3Settings = {
      type: 's3',
      bucket: 'cli',
      ...s3StoreAccess(s3),
    };
    const config = validateConfig({ stores: { src: { type: 'fs', root: path.join(base, 'cli') }, vault: { ...s3Settings, encrypted: true } } });
    await assert.rejects(
      migrateCommand(
        () => config,
        () => undefined,
      ).parseAsync(['--from', 'src', '--to', 'vault'], { from: 'user' }),
      /store "vault" is encrypted and the other is not: migrate copies bytes unchanged/,
    );
  });
});
