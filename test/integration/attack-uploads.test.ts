// Attacks on fs writes through real nginx: a symlinked directory inside a store root must never
// let an upload (plain fs, or encrypted through the worker) create anything outside it, and keys
// the directory tree cannot hold (a file where a parent should be, a segment over the name limit)
// are answered with a short 4xx JSON reason, for uploads and downloads alike, never a 500.
import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createKeyring } from '../../src/crypto/keyring.js';
import { UPLOAD_TMP_DIR } from '../../src/uploads/fs-finalize.js';
import { request, type RawResponse } from '../helpers/http.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { bearer, testAuthConfig } from '../helpers/tokens.js';

const PASSWORD = 'correct horse battery staple';
const LONG = 's'.repeat(300);

let stack: Stack;
let dir: string;
let outside: string;
const roots: Record<string, string> = {};
let alice: Record<string, string>;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-attack-uploads-'));
  outside = path.join(dir, 'outside');
  await mkdir(outside);
  for (const name of ['docs', 'streamed', 'vault']) {
    roots[name] = path.join(dir, name);
    await mkdir(roots[name] as string);
    // Planted by someone with shell access, not by Sluice: one link out of the root, one within.
    await symlink(outside, path.join(roots[name] as string, 'escape'));
    await mkdir(path.join(roots[name] as string, 'real'));
    await symlink(path.join(roots[name] as string, 'real'), path.join(roots[name] as string, 'alias'));
    await writeFile(path.join(roots[name] as string, 'file.txt'), 'a plain file');
  }
  const keyringFile = path.join(dir, 'keyring.json');
  await createKeyring(keyringFile, PASSWORD, { id: 'k1', kdfCost: 2 ** 14 });
  stack = await startStack(
    {
      stores: {
        docs: { type: 'fs', root: roots.docs },
        streamed: { type: 'fs', root: roots.streamed, delivery: 'stream' },
        vault: { type: 'fs', root: roots.vault, encrypted: true },
      },
      auth: testAuthConfig,
      rules: [
        { key: '*rest', when: [{ authenticated: true }] },
        { key: '*rest', actions: ['write'], when: [{ claim: 'uploader', equals: true }] },
      ],
      uploads: { enabled: true, maxBytes: 1024 * 1024 },
      worker: { secret: 'attack-uploads-worker-secret-0123456789' },
      encryption: { keyringFile, passwordFile: '/dev/fd/3', chunkSize: 64 * 1024 },
    },
    { worker: true, workerPassword: PASSWORD },
  );
  alice = await bearer('alice', { uploader: true });
});

after(async () => {
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** PUT with a body, the raw path sent byte for byte. */
function put(rawPath: string, body: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: stack.port,
        method: 'PUT',
        path: rawPath,
        agent: false,
        headers: { ...alice, 'Content-Type': 'application/octet-stream', 'Content-Length': String(Buffer.byteLength(body)) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const bytes = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: bytes,
            text: () => bytes.toString('utf8'),
            json: () => JSON.parse(bytes.toString('utf8')) as unknown,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const UPLOAD_ROUTES = [
  { store: 'docs', route: '/files/_uploads/fs/docs' },
  { store: 'vault', route: '/files/_uploads/encrypted/vault' },
] as const;

function assertRefused(res: RawResponse, status: number, reason: string, label: string): void {
  assert.equal(res.status, status, `${label}: ${res.text()}`);
  assert.match(String(res.headers['content-type']), /application\/json/, label);
  assert.deepEqual(res.json(), { error: reason }, label);
}

/** nginx removes a request's body file when the request is finalized, which may be just after
 * the client has read the answer: wait a little for the directory to settle. */
async function settledListing(directory: string, deadlineMs = 3000): Promise<string[]> {
  const until = Date.now() + deadlineMs;
  let names = await readdir(directory);
  while (names.length > 0 && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    names = await readdir(directory);
  }
  return names;
}

/** Every entry under `root`, relative, sorted (symlinks listed, not followed); nginx's temp
 * bodies come and go on their own and are left out. */
async function tree(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true });
  return entries
    .map(String)
    .filter((entry) => !entry.startsWith(`${UPLOAD_TMP_DIR}${path.sep}`))
    .sort();
}

for (const { store, route } of UPLOAD_ROUTES) {
  describe(`${store === 'docs' ? 'fs' : 'encrypted fs'} uploads (${route})`, () => {
    it('a symlinked directory inside the root → 403, and nothing is created outside the root or through it', async () => {
      const root = roots[store] as string;
      for (const key of ['escape/x.txt', 'escape/new/deeper/x.txt', 'alias/x.txt', 'alias/sub/x.txt']) {
        assertRefused(await put(`${route}/${key}`, 'must not land'), 403, 'key path crosses a symlink', `${store} ${key}`);
      }
      assert.deepEqual(await readdir(outside), [], 'the symlink target outside the root stays empty');
      assert.deepEqual(await readdir(path.join(root, 'real')), [], 'the in-root symlink target stays empty too');
      // Temp files are gone: nginx removes its body file, the worker its ciphertext.
      assert.deepEqual(await settledListing(path.join(root, UPLOAD_TMP_DIR)), []);
    });

    it('a parent that is a file → 409 with a reason, the file untouched', async () => {
      assertRefused(await put(`${route}/file.txt/child.txt`, 'x'), 409, 'a parent of this key is a file', store);
      assertRefused(await put(`${route}/file.txt/a/b.txt`, 'x'), 409, 'a parent of this key is a file', store);
      assert.equal(await readFile(path.join(roots[store] as string, 'file.txt'), 'utf8'), 'a plain file');
    });

    it('a 300-byte segment → 400 with a reason, in a parent or as the last segment', async () => {
      const before = await tree(roots[store] as string);
      assertRefused(await put(`${route}/${LONG}/x.txt`, 'x'), 400, 'key segment too long for this store', `${store} parent`);
      assert.deepEqual(await tree(roots[store] as string), before, 'nothing was created');
      assertRefused(await put(`${route}/long/${LONG}`, 'x'), 400, 'key segment too long for this store', `${store} leaf`);
    });

    it('an existing directory as the key → 409; ordinary nested keys still work', async () => {
      await mkdir(path.join(roots[store] as string, 'taken/sub'), { recursive: true });
      assertRefused(await put(`${route}/taken`, 'x'), 409, 'key is a directory of other keys', store);
      const ok = await put(`${route}/fresh/nested/ok.txt`, 'stored');
      assert.equal(ok.status, 201, ok.text());
      assert.equal((await lstat(path.join(roots[store] as string, 'fresh/nested/ok.txt'))).isFile(), true);
    });
  });
}

describe('downloads of keys the tree cannot hold: 404, never 500', () => {
  for (const store of ['docs', 'streamed', 'vault']) {
    it(`${store}: parent is a file, 300-byte segment, through a symlink to outside`, async () => {
      await writeFile(path.join(outside, 'secret.txt'), 'outside the root');
      try {
        for (const key of ['file.txt/child.txt', `${LONG}/x.txt`, `a/${LONG}`, 'escape/secret.txt']) {
          for (const method of ['GET', 'HEAD']) {
            const res = await request(stack.port, `/files/${store}/${key}`, { method, headers: alice });
            assert.equal(res.status, 404, `${store} ${method} ${key}: ${res.text()}`);
            assert.doesNotMatch(res.text(), /outside the root/);
          }
        }
      } finally {
        await rm(path.join(outside, 'secret.txt'));
      }
    });
  }
});
