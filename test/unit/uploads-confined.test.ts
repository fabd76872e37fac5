// The containment walk under fs store roots: segment by segment, no symlinks, no directory ever
// created outside the root, and clear problems for files in the way and over-long names.
import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readdir, readFile, realpath, rename, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import { openConfinedDir as openAnchored, PathRefused, type Anchoring, type PathProblem } from '../../src/storage/confined-dir.js';

let root: string;
let outside: string;
const scratch: string[] = [];

beforeEach(async () => {
  root = await realpath(await mkdtemp(path.join(os.tmpdir(), 'sluice-confined-root-')));
  outside = await realpath(await mkdtemp(path.join(os.tmpdir(), 'sluice-confined-outside-')));
  scratch.push(root, outside);
});

after(async () => {
  await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
});

const refusedAs = (problem: PathProblem, at: string) => (error: unknown) => error instanceof PathRefused && error.problem === problem && error.at === at;

for (const anchoring of ['auto', 'paths'] as const satisfies readonly Anchoring[]) {
  describe(`openConfinedDir (${anchoring})`, () => {
    const openConfinedDir = (realRoot: string, segments: readonly string[], create: boolean) => openAnchored(realRoot, segments, create, anchoring);

    it('creates missing segments one at a time and hands back a usable directory', async () => {
      const dir = await openConfinedDir(root, ['a', 'b', 'c'], true);
      try {
        await writeFile(`${dir.path}/f.txt`, 'inside');
      } finally {
        await dir.close();
      }
      assert.equal(await readFile(path.join(root, 'a/b/c/f.txt'), 'utf8'), 'inside');
      // Existing segments are reused, not refused.
      const again = await openConfinedDir(root, ['a', 'b'], true);
      await again.close();
      assert.deepEqual(await readdir(path.join(root, 'a/b')), ['c']);
    });

    it('the empty path is the root itself', async () => {
      const dir = await openConfinedDir(root, [], false);
      await writeFile(`${dir.path}/top.txt`, 'x');
      await dir.close();
      assert.equal(await readFile(path.join(root, 'top.txt'), 'utf8'), 'x');
    });

    it('refuses a symlink to a directory outside, at any depth, and creates nothing there', async () => {
      await symlink(outside, path.join(root, 'escape'));
      await assert.rejects(openConfinedDir(root, ['escape', 'new', 'deeper'], true), refusedAs('symlink', 'escape'));
      await mkdir(path.join(root, 'x/y'), { recursive: true });
      await symlink(outside, path.join(root, 'x/y/link'));
      await assert.rejects(openConfinedDir(root, ['x', 'y', 'link', 'new'], true), refusedAs('symlink', 'x/y/link'));
      assert.deepEqual(await readdir(outside), []);
    });

    it('refuses a symlink even when it points inside the root', async () => {
      await mkdir(path.join(root, 'real'));
      await symlink(path.join(root, 'real'), path.join(root, 'alias'));
      await assert.rejects(openConfinedDir(root, ['alias', 'sub'], true), refusedAs('symlink', 'alias'));
      assert.deepEqual(await readdir(path.join(root, 'real')), []);
    });

    it('refuses a dangling symlink instead of creating its target', async () => {
      const target = path.join(outside, 'made-by-mkdir');
      await symlink(target, path.join(root, 'dangling'));
      await assert.rejects(openConfinedDir(root, ['dangling', 'x'], true), refusedAs('symlink', 'dangling'));
      await assert.rejects(lstat(target), { code: 'ENOENT' });
    });

    it('reports a file where a directory should be, and a name over the filesystem limit', async () => {
      await writeFile(path.join(root, 'plain.txt'), 'a file');
      await assert.rejects(openConfinedDir(root, ['plain.txt', 'child'], true), refusedAs('not-a-directory', 'plain.txt'));
      const long = 'n'.repeat(300);
      await assert.rejects(openConfinedDir(root, ['ok', long, 'child'], true), refusedAs('name-too-long', `ok/${long}`));
      assert.deepEqual((await readdir(root)).sort(), ['ok', 'plain.txt']);
    });

    it('does not create anything without `create`', async () => {
      await assert.rejects(openConfinedDir(root, ['missing'], false), { code: 'ENOENT' });
      assert.deepEqual(await readdir(root), []);
    });

    it('concurrent walks creating the same directories all succeed', async () => {
      const dirs = await Promise.all(Array.from({ length: 8 }, () => openConfinedDir(root, ['p', 'q', 'r'], true)));
      await Promise.all(dirs.map((dir) => dir.close()));
      assert.equal((await lstat(path.join(root, 'p/q/r'))).isDirectory(), true);
    });
  });
}

describe('openConfinedDir on Linux (/proc/self/fd anchoring)', () => {
  it('stays anchored to the directory it opened when the path is swapped for a symlink afterwards', async () => {
    // The race the walk is built for: a held segment replaced by a symlink to outside the root.
    const dir = await openAnchored(root, ['held'], true);
    assert.match(dir.path, /^\/proc\/self\/fd\/\d+$/);
    try {
      await rename(path.join(root, 'held'), path.join(root, 'moved'));
      await symlink(outside, path.join(root, 'held'));
      await mkdir(`${dir.path}/child`);
      await writeFile(`${dir.path}/child/f.txt`, 'still inside');
    } finally {
      await dir.close();
    }
    assert.deepEqual(await readdir(outside), []);
    assert.equal(await readFile(path.join(root, 'moved/child/f.txt'), 'utf8'), 'still inside');
  });
});
