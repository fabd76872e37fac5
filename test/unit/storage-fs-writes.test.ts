// The write side of fs stores: put (create / replace), head and delete, confined to the root
// and atomic (a reader sees the old object or the whole new one, never part of it).
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { storeSchema, type FsStoreConfig } from '../../src/config/schema.js';
import { PublicError } from '../../src/errors.js';
import { createFsStore } from '../../src/storage/fs-store.js';
import { PUT_TMP_PREFIX, UPLOAD_TMP_DIR } from '../../src/storage/fs-writes.js';
import { canonicalizeKey } from '../../src/storage/key.js';
import type { CanonicalKey, PutOptions, Store } from '../../src/storage/types.js';

let root: string;
let outside: string;
let store: Store;

const replace: PutOptions = { contentType: 'text/plain', mode: 'replace' };
const create: PutOptions = { contentType: 'text/plain', mode: 'create' };
const key = (value: string): CanonicalKey => canonicalizeKey(value);
/** Keys no request could produce, as a listing or a record could hand them over. */
const handBuilt = (...segments: string[]): CanonicalKey => ({ segments, value: segments.join('/') });
const refusedWith = (status: number, reason?: string) => (error: unknown) =>
  error instanceof PublicError && error.status === status && (reason === undefined || error.reason === reason);
const putTempFiles = async (): Promise<string[]> => (await readdir(path.join(root, UPLOAD_TMP_DIR))).filter((name) => name.startsWith(PUT_TMP_PREFIX));

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'sluice-fs-writes-'));
  outside = await mkdtemp(path.join(os.tmpdir(), 'sluice-fs-writes-outside-'));
  await symlink(outside, path.join(root, 'escape'));
  await writeFile(path.join(outside, 'victim.txt'), 'untouched');
  store = createFsStore('docs', storeSchema.parse({ type: 'fs', root }) as FsStoreConfig, '/_sluice');
});

after(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

describe('fs store put, head, delete', () => {
  it('puts bytes and streams, creating parents; head reports size, validator and date', async () => {
    await store.put(key('a/b/bytes.txt'), Buffer.from('hello'), replace);
    await store.put(key('a/stream.txt'), Readable.from([Buffer.from('str'), Buffer.from('eam')]), replace);
    assert.equal(await readFile(path.join(root, 'a/b/bytes.txt'), 'utf8'), 'hello');
    assert.equal(await readFile(path.join(root, 'a/stream.txt'), 'utf8'), 'stream');
    const head = await store.head(key('a/b/bytes.txt'));
    assert.equal(head?.size, 5);
    assert.match(head?.etag ?? '', /^W\/"/);
    assert.ok(head?.lastModified instanceof Date);
    assert.deepEqual(head?.metadata, {});
    assert.equal(await store.head(key('a/missing.txt')), null);
    assert.deepEqual(await putTempFiles(), []);
  });

  it('create is write-once (409); replace swaps the object', async () => {
    await store.put(key('once.txt'), Buffer.from('first'), create);
    await assert.rejects(store.put(key('once.txt'), Buffer.from('second'), create), refusedWith(409, 'key already written'));
    assert.equal(await readFile(path.join(root, 'once.txt'), 'utf8'), 'first');
    await store.put(key('once.txt'), Buffer.from('second'), replace);
    assert.equal(await readFile(path.join(root, 'once.txt'), 'utf8'), 'second');
    assert.deepEqual(await putTempFiles(), []);
  });

  it('delete removes the file; a missing one (or missing parent) is no error', async () => {
    await store.put(key('gone/x.txt'), Buffer.from('x'), replace);
    await store.delete(key('gone/x.txt'));
    assert.equal(await store.head(key('gone/x.txt')), null);
    await store.delete(key('gone/x.txt'));
    await store.delete(key('never/was/here.txt'));
  });

  it('answers keys the tree cannot hold with 409: a parent that is a file, a key that is a directory', async () => {
    await writeFile(path.join(root, 'plain.txt'), 'a file');
    await mkdir(path.join(root, 'dir/sub'), { recursive: true });
    await assert.rejects(store.put(key('plain.txt/child.txt'), Buffer.from('x'), replace), refusedWith(409, 'a parent of this key is a file'));
    await assert.rejects(store.put(key('dir'), Buffer.from('x'), replace), refusedWith(409, 'key is a directory of other keys'));
    await assert.rejects(store.delete(key('dir')), refusedWith(409, 'key is a directory of other keys'));
    assert.equal(await readFile(path.join(root, 'plain.txt'), 'utf8'), 'a file');
  });
});

describe('fs store writes are confined to the root', () => {
  it('refuses "..", empty (absolute) and separator-carrying segments with 400, writing nothing', async () => {
    for (const bad of [
      handBuilt('..', 'x.txt'),
      handBuilt('a', '..', '..', 'x.txt'),
      handBuilt('', 'etc', 'x.txt'),
      handBuilt(`${outside}/x.txt`),
      handBuilt('a\\..\\x.txt'),
      handBuilt(UPLOAD_TMP_DIR, 'x'),
    ]) {
      await assert.rejects(store.put(bad, Buffer.from('x'), replace), refusedWith(400), bad.value);
      await assert.rejects(store.delete(bad), refusedWith(400), bad.value);
    }
    assert.deepEqual((await readdir(outside)).sort(), ['victim.txt']);
  });

  it('never writes, creates or deletes through a symlinked directory (403)', async () => {
    await assert.rejects(store.put(key('escape/x.txt'), Buffer.from('x'), replace), refusedWith(403, 'key path crosses a symlink'));
    await assert.rejects(store.put(key('escape/new/deeper/x.txt'), Buffer.from('x'), create), refusedWith(403));
    await assert.rejects(store.put(key('escape/victim.txt'), Buffer.from('overwritten'), replace), refusedWith(403));
    await assert.rejects(store.delete(key('escape/victim.txt')), refusedWith(403));
    assert.deepEqual((await readdir(outside)).sort(), ['victim.txt']);
    assert.equal(await readFile(path.join(outside, 'victim.txt'), 'utf8'), 'untouched');
  });

  it('replaces a symlink at the key itself instead of writing through it', async () => {
    await symlink(path.join(outside, 'victim.txt'), path.join(root, 'link.txt'));
    await store.put(key('link.txt'), Buffer.from('mine'), replace);
    assert.equal(await readFile(path.join(outside, 'victim.txt'), 'utf8'), 'untouched');
    assert.equal((await stat(path.join(root, 'link.txt'))).isFile(), true);
    assert.equal(await readFile(path.join(root, 'link.txt'), 'utf8'), 'mine');
  });

  it('refuses a temp dir that is a symlink (an operator error, not a 4xx) without writing there', async () => {
    const other = await mkdtemp(path.join(os.tmpdir(), 'sluice-fs-writes-root2-'));
    try {
      await symlink(outside, path.join(other, UPLOAD_TMP_DIR));
      const misplaced = createFsStore('other', storeSchema.parse({ type: 'fs', root: other }) as FsStoreConfig, '/_sluice');
      await assert.rejects(misplaced.put(key('x.txt'), Buffer.from('x'), replace), (error: unknown) => !(error instanceof PublicError));
      assert.deepEqual((await readdir(outside)).sort(), ['victim.txt']);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});

describe('fs store writes are atomic', () => {
  it('a reader sees the old object until the whole new one is in place', async () => {
    await store.put(key('atomic.txt'), Buffer.from('old object'), replace);
    const body = new PassThrough();
    const writing = store.put(key('atomic.txt'), body, replace);
    body.write('new ');
    // Wait (event-loop turns, no timers) until the first bytes reached the temp file.
    while ((await tempBytes()) < 4) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(await readFile(path.join(root, 'atomic.txt'), 'utf8'), 'old object');
    body.end('object, complete');
    await writing;
    assert.equal(await readFile(path.join(root, 'atomic.txt'), 'utf8'), 'new object, complete');
    assert.deepEqual(await putTempFiles(), []);
  });

  it('a failed or aborted body leaves the old object (or no object) and no temp file', async () => {
    const failing = new PassThrough();
    const failed = store.put(key('atomic.txt'), failing, replace);
    failing.write('partial');
    while ((await tempBytes()) < 7) await new Promise((resolve) => setImmediate(resolve));
    failing.destroy(new Error('client went away'));
    await assert.rejects(failed, /client went away/);
    assert.equal(await readFile(path.join(root, 'atomic.txt'), 'utf8'), 'new object, complete');

    const controller = new AbortController();
    const aborted = new PassThrough();
    const cancelled = store.put(key('never.txt'), aborted, { ...create, signal: controller.signal });
    aborted.write('partial');
    while ((await tempBytes()) < 7) await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    await assert.rejects(cancelled, { name: 'AbortError' });
    assert.equal(await store.head(key('never.txt')), null);
    assert.deepEqual(await putTempFiles(), []);
  });
});

/** Bytes in put()'s temp files so far. */
async function tempBytes(): Promise<number> {
  let total = 0;
  for (const name of await putTempFiles()) total += (await stat(path.join(root, UPLOAD_TMP_DIR, name)).catch(() => ({ size: 0 }))).size;
  return total;
}
