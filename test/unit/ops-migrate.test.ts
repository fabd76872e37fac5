import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile, appendFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openManifest, readManifest } from '../../src/ops/migrate/manifest.js';
import { listSource } from '../../src/ops/migrate/source.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-ops-unit-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('migration source listing', () => {
  it('keys are "/"-joined relative paths; links inside the root are followed, links out refused', async () => {
    const root = path.join(dir, 'root');
    await mkdir(path.join(root, 'a', 'b'), { recursive: true });
    await writeFile(path.join(root, 'a', 'b', 'file one.txt'), 'one');
    await writeFile(path.join(root, 'top.txt'), 'top');
    await writeFile(path.join(dir, 'outside.txt'), 'outside');
    await symlink(path.join(root, 'top.txt'), path.join(root, 'alias.txt'));
    await symlink(path.join(dir, 'outside.txt'), path.join(root, 'a', 'escape.txt'));
    await symlink(path.join(dir, 'missing'), path.join(root, 'dangling'));
    await symlink(dir, path.join(root, 'parent-dir'));
    const listing = await listSource(root);
    assert.deepEqual(listing.files.map((f) => [f.key, f.size]), [
      ['a/b/file one.txt', 3],
      ['alias.txt', 3],
      ['top.txt', 3],
    ]);
    assert.deepEqual(listing.refused, [
      { key: 'a/escape.txt', reason: 'symlink leaves the store root' },
      { key: 'dangling', reason: 'dangling symlink' },
      { key: 'parent-dir', reason: 'symlink leaves the store root' },
    ]);
  });
});

describe('migration manifest', () => {
  const entry = (key: string, sha256: string) => ({ key, size: 1, mtimeMs: 1, sha256, bucket: 'b', verifiedAt: '2026-11-24T00:00:00.000Z' });

  it('appends lines, survives a torn last line, and the newest entry per key wins', async () => {
    const file = path.join(dir, 'manifest.jsonl');
    const manifest = await openManifest(file);
    await Promise.all([manifest.append(entry('a', '1')), manifest.append(entry('b', '2'))]);
    await manifest.close();
    await appendFile(file, '{"key":"c","size":1,"sha2'); // a crash mid-write
    const resumed = await openManifest(file);
    assert.deepEqual([...resumed.entries.keys()], ['a', 'b']);
    await resumed.append(entry('a', '3'));
    await resumed.close();
    const entries = await readManifest(file);
    assert.equal(entries.get('a')?.sha256, '3');
    assert.equal(entries.size, 2);
  });

  it('a missing manifest is empty', async () => {
    assert.equal((await readManifest(path.join(dir, 'none.jsonl'))).size, 0);
  });
});
