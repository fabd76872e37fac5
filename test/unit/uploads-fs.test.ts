// fs upload finalization (link into place, write-once, confinement), the worker's fs writer for
// encrypted stores, and the nginx locations rendered for uploads.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { validateConfig } from '../../src/config/load.js';
import type { FsStoreConfig } from '../../src/config/schema.js';
import { PublicError } from '../../src/errors.js';
import { renderUploadLocations } from '../../src/nginx/render-uploads.js';
import { createFsStore } from '../../src/storage/fs-store.js';
import { PUT_TMP_PREFIX } from '../../src/storage/fs-writes.js';
import { canonicalizeKey } from '../../src/storage/key.js';
import type { CanonicalKey } from '../../src/storage/types.js';
import { finalizeFsUpload as finalize, UPLOAD_TMP_DIR } from '../../src/uploads/fs-finalize.js';

let root: string;
let outside: string;
let tmp: string;

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'sluice-upload-root-'));
  outside = await mkdtemp(path.join(os.tmpdir(), 'sluice-upload-outside-'));
  tmp = path.join(root, UPLOAD_TMP_DIR);
  await mkdir(tmp);
  await symlink(outside, path.join(root, 'escape'));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

async function body(name: string, content: string): Promise<string> {
  const file = path.join(tmp, name);
  await writeFile(file, content);
  return file;
}

const fsStore = (storeRoot: string, encrypted = false) =>
  createFsStore(
    'docs',
    validateConfig({ stores: { docs: { type: 'fs', root: storeRoot, encrypted } }, worker: { secret: 's'.repeat(40) } }).stores.docs as FsStoreConfig,
    '/_sluice',
  );
const finalizeFsUpload = (storeRoot: string, key: CanonicalKey, bodyFile: string, maxBytes: number) => finalize(fsStore(storeRoot), key, bodyFile, maxBytes);

const refusedWith = (status: number, reason?: string) => (error: unknown) =>
  error instanceof PublicError && error.status === status && (reason === undefined || error.reason === reason);

describe('finalizeFsUpload', () => {
  it('links the temp file into place, creating directories, and never overwrites', async () => {
    const size = await finalizeFsUpload(root, canonicalizeKey('a/b/c.txt'), await body('0001', 'hello'), 100);
    assert.equal(size, 5);
    assert.equal(await readFile(path.join(root, 'a/b/c.txt'), 'utf8'), 'hello');
    await assert.rejects(finalizeFsUpload(root, canonicalizeKey('a/b/c.txt'), await body('0002', 'other'), 100), refusedWith(409));
    assert.equal(await readFile(path.join(root, 'a/b/c.txt'), 'utf8'), 'hello');
  });

  it('refuses a body file outside the temp directory, a too-large body and reserved keys', async () => {
    await writeFile(path.join(root, 'stray'), 'x');
    await assert.rejects(finalizeFsUpload(root, canonicalizeKey('s.txt'), path.join(root, 'stray'), 100), /outside the upload temp directory/);
    await assert.rejects(finalizeFsUpload(root, canonicalizeKey('s.txt'), path.join(tmp, '..', 'stray'), 100), /outside the upload temp directory/);
    await assert.rejects(finalizeFsUpload(root, canonicalizeKey('big.txt'), await body('0003', 'too long'), 3), refusedWith(413));
    // canonicalizeKey refuses reserved names itself; a hand-built key must be refused here too.
    assert.throws(() => canonicalizeKey('.sluice-upload-tmp/x'), refusedWith(400));
    const reserved = { segments: ['.sluice-upload-tmp', 'x'], value: '.sluice-upload-tmp/x' };
    await assert.rejects(finalizeFsUpload(root, reserved, await body('0004', 'x'), 100), refusedWith(400));
  });

  it('refuses a symlinked directory (403) without creating anything through it', async () => {
    await assert.rejects(finalizeFsUpload(root, canonicalizeKey('escape/x.txt'), await body('0005', 'x'), 100), refusedWith(403));
    // The reported bug: mkdir -p ran first and made "new/deeper" in the symlink's target.
    await assert.rejects(finalizeFsUpload(root, canonicalizeKey('escape/new/deeper/x.txt'), await body('0006', 'x'), 100), refusedWith(403));
    assert.deepEqual(await readdir(outside), []);
  });

  it('answers keys the tree cannot hold with 4xx: parent is a file (409), key is a directory (409), long segment (400)', async () => {
    await writeFile(path.join(root, 'file.txt'), 'a file');
    await assert.rejects(
      finalizeFsUpload(root, canonicalizeKey('file.txt/child.txt'), await body('0007', 'x'), 100),
      refusedWith(409, 'a parent of this key is a file'),
    );
    await mkdir(path.join(root, 'dir/sub'), { recursive: true });
    await assert.rejects(finalizeFsUpload(root, canonicalizeKey('dir'), await body('0008', 'x'), 100), refusedWith(409, 'key is a directory of other keys'));
    const long = 'l'.repeat(300);
    await assert.rejects(
      finalizeFsUpload(root, canonicalizeKey(`${long}/x.txt`), await body('0009', 'x'), 100),
      refusedWith(400, 'key segment too long for this store'),
    );
    await assert.rejects(
      finalizeFsUpload(root, canonicalizeKey(`short/${long}`), await body('0010', 'x'), 100),
      refusedWith(400, 'key segment too long for this store'),
    );
    assert.equal(await readFile(path.join(root, 'file.txt'), 'utf8'), 'a file');
  });
});

describe("the worker's fs writer (encrypted stores)", () => {
  const writerFor = (storeRoot: string) => ({
    writeOnce: (key: CanonicalKey, body: Readable, signal: AbortSignal) =>
      fsStore(storeRoot, true).put(key, body, { contentType: 'application/octet-stream', mode: 'create', signal }),
  });
  const write = (key: string, content: string) =>
    writerFor(root).writeOnce(canonicalizeKey(key), Readable.from([Buffer.from(content)]), new AbortController().signal);

  it('writes once, creating parents inside the root', async () => {
    await write('w/a/b.bin', 'sealed');
    assert.equal(await readFile(path.join(root, 'w/a/b.bin'), 'utf8'), 'sealed');
    await assert.rejects(write('w/a/b.bin', 'again'), refusedWith(409, 'key already written'));
  });

  it('gives the same 4xx answers as fs uploads, leaves no temp file and nothing outside', async () => {
    await writeFile(path.join(root, 'wfile'), 'a file');
    await assert.rejects(write('wfile/x.bin', 'x'), refusedWith(409, 'a parent of this key is a file'));
    await assert.rejects(write(`w/${'l'.repeat(300)}/x.bin`, 'x'), refusedWith(400, 'key segment too long for this store'));
    await assert.rejects(write('escape/made/x.bin', 'x'), refusedWith(403, 'key path crosses a symlink'));
    assert.deepEqual(await readdir(outside), []);
    assert.deepEqual(
      (await readdir(tmp)).filter((name) => name.startsWith(PUT_TMP_PREFIX)),
      [],
    );
  });

  it('refuses a temp dir that is a symlink (an operator error, not a 4xx)', async () => {
    const other = await mkdtemp(path.join(os.tmpdir(), 'sluice-upload-root2-'));
    const elsewhere = await mkdtemp(path.join(os.tmpdir(), 'sluice-upload-elsewhere-'));
    try {
      await symlink(elsewhere, path.join(other, UPLOAD_TMP_DIR));
      const writer = writerFor(other);
      await assert.rejects(
        writer.writeOnce(canonicalizeKey('x.bin'), Readable.from([Buffer.from('x')]), new AbortController().signal),
        (error: unknown) => !(error instanceof PublicError),
      );
      assert.deepEqual(await readdir(elsewhere), []);
    } finally {
      await rm(other, { recursive: true, force: true });
      await rm(elsewhere, { recursive: true, force: true });
    }
  });
});

describe('renderUploadLocations', () => {
  const base = { stores: { docs: { type: 'fs', root: '/srv/docs' }, media: { type: 's3', bucket: 'media' } } };

  it('renders nothing while uploads are disabled', () => {
    assert.deepEqual(renderUploadLocations(validateConfig(base)), []);
  });

  it('offloads fs bodies to a temp file and authorizes them first', () => {
    const text = renderUploadLocations(validateConfig({ ...base, uploads: { enabled: true, maxBytes: 1000 } })).join('\n');
    assert.match(text, /location \^~ \/files\/_uploads \{[^}]*proxy_set_header X-Sluice-Body-File "";/);
    assert.match(text, /location \^~ \/files\/_uploads\/fs\/docs\/ \{/);
    assert.match(text, /auth_request \/_sluice\/upload-auth;/);
    assert.match(text, /client_body_temp_path "\/srv\/docs\/\.sluice-upload-tmp";/);
    assert.match(text, /client_body_in_file_only clean;/);
    assert.match(text, /proxy_set_header X-Sluice-Body-File \$request_body_file;/);
    assert.match(text, /proxy_pass_request_body off;/);
    assert.match(text, /location \^~ \/_sluice\/fs\/docs\/\.sluice-upload-tmp\/ \{\n    internal;\n    return 404;/);
    assert.doesNotMatch(text, /_uploads\/fs\/media/);
  });
});
