// fs upload finalization (link into place, write-once, confinement) and the nginx locations
// rendered for uploads.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { validateConfig } from '../../src/config/load.js';
import { PublicError } from '../../src/errors.js';
import { renderUploadLocations } from '../../src/nginx/render-uploads.js';
import { canonicalizeKey } from '../../src/storage/key.js';
import { finalizeFsUpload, UPLOAD_TMP_DIR } from '../../src/uploads/fs-finalize.js';

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

const refusedWith = (status: number) => (error: unknown) => error instanceof PublicError && error.status === status;

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

  it('does not follow a symlinked directory out of the store', async () => {
    await assert.rejects(finalizeFsUpload(root, canonicalizeKey('escape/x.txt'), await body('0005', 'x'), 100), refusedWith(400));
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
