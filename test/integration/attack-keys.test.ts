// Key canonicalization attacks through real nginx against an fs store and an S3 store (Swift
// s3api): hundreds of generated traversal, encoding and look-alike spellings. Each must be
// refused (400/401/403/404) — never a 500, never a byte of a secret placed beside the store.
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { request } from '../helpers/http.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { s3ClientFor, startSwiftS3, type S3TestServer, s3StoreAccess } from '../helpers/swift.js';
import { bearer, testAuthConfig } from '../helpers/tokens.js';

const SECRET = 'TOP-SECRET-3f9c1b';
const PUBLIC_BODY = 'public hello';
const REFUSED = new Set([400, 401, 403, 404]);

/** Traversal spellings: plain, encoded once and twice, overlong UTF-8, path parameters, NUL, look-alikes. */
const DOTS = [
  '..',
  '%2e%2e',
  '%2E%2E',
  '.%2e',
  '%2e.',
  '%252e%252e',
  '%c0%ae%c0%ae',
  '%e0%80%ae%e0%80%ae',
  '..;',
  '..%00',
  '%2e%2e%00',
  '%ef%bc%8e%ef%bc%8e',
  '.',
  '%2e',
  '..%20',
  '...',
];
const SEPARATORS = ['/', '%2f', '%2F', '%252f', '%5c', '%5C', '\\', '%c0%af', '%e0%80%af', '//', ';/', '%ef%bc%8f', '%e2%88%95', '%00/'];
/** What the attacker wants: a file beside the store root, a system file, and a denied key inside. */
const TARGETS = ['secret.txt', 'etc/passwd', 'private/secret.txt'];

export function attackPaths(store: string): string[] {
  const out = new Set<string>();
  for (const dots of DOTS) {
    for (const sep of SEPARATORS) {
      for (const target of TARGETS) {
        out.add(`/files/${store}/public/${dots}${sep}${target}`);
        out.add(`/files/${store}/public/${dots}${sep}${dots}${sep}${target}`);
      }
    }
  }
  const extra = [
    `//files/${store}/private/secret.txt`,
    `/files/${store}//private/secret.txt`,
    `/files/${store}/%2fprivate/secret.txt`,
    `/files/${store}/%2Fetc%2Fpasswd`,
    `/files/${store}/public%2f..%2fprivate%2fsecret.txt`,
    `/files/${store}/public/..;/private/secret.txt`,
    `/files/${store}/public;/../private/secret.txt`,
    `/files/${store}/private/secret.txt%00.pdf`,
    `/files/${store}/private/secret.txt%0d%0aX-Injected:%201`,
    `/files/${store}/public/%00`,
    `/files/${store}/public/%`,
    `/files/${store}/public/%zz`,
    `/files/${store}/public/%c3`,
    `/files/${store}/public/%ed%a0%80`,
    `/files/${store}/privat%65/secret.txt`, // an encoded letter decodes to the denied key: still denied
    `/files/${store}/PRIVATE/secret.txt`,
    `/files/${store}/private/secret.TXT`,
    `/files/${store}/%ef%bd%90rivate/secret.txt`, // fullwidth "p"
    `/files/${store}/public/cafe%cc%81.txt`, // NFD of an NFC name: a different key, no normalization
    `/files/${store}/..`,
    `/files/${store}/.`,
    `/files/${store}/`,
    `/files/..%2f${store}/private/secret.txt`,
    `/files/%2e%2e/${store}/private/secret.txt`,
    `/_sluice/fs/${store}/private/secret.txt`,
    `/_sluice/s3/${store}`,
    `/files/${store}/public/ok.txt/../../private/secret.txt`,
    `/files/${store}/public/ok.txt#/../../private/secret.txt`,
  ];
  for (const p of extra) out.add(p);
  return [...out];
}

let base: string;
let s3: S3TestServer;
let stack: Stack;
let alice: Record<string, string>;

before(async () => {
  const swift = startSwiftS3();
  base = await mkdtemp(path.join(os.tmpdir(), 'sluice-attack-keys-'));
  await chmod(base, 0o755);
  const root = path.join(base, 'store');
  for (const [key, body] of [
    ['public/ok.txt', PUBLIC_BODY],
    ['public/café.txt', PUBLIC_BODY],
    ['private/secret.txt', SECRET],
  ] as const) {
    await mkdir(path.dirname(path.join(root, key)), { recursive: true });
    await writeFile(path.join(root, key), body);
  }
  // Beside the root: reachable only by escaping it.
  await writeFile(path.join(base, 'secret.txt'), SECRET);
  await mkdir(path.join(base, 'store-secret'));
  await writeFile(path.join(base, 'store-secret', 'secret.txt'), SECRET);
  s3 = await swift;
  const client = s3ClientFor(s3);
  for (const bucket of ['media', 'vault']) await client.send(new CreateBucketCommand({ Bucket: bucket }));
  await client.send(new PutObjectCommand({ Bucket: 'media', Key: 'public/ok.txt', Body: PUBLIC_BODY }));
  await client.send(new PutObjectCommand({ Bucket: 'media', Key: 'public/café.txt', Body: PUBLIC_BODY }));
  await client.send(new PutObjectCommand({ Bucket: 'media', Key: 'private/secret.txt', Body: SECRET }));
  await client.send(new PutObjectCommand({ Bucket: 'media', Key: 'secret.txt', Body: SECRET }));
  await client.send(new PutObjectCommand({ Bucket: 'vault', Key: 'secret.txt', Body: SECRET }));
  const s3Store = {
    type: 's3',
    bucket: 'media',
    ...s3StoreAccess(s3),
  };
  stack = await startStack({
    stores: { docs: { type: 'fs', root }, media: s3Store, streamed: { ...s3Store, delivery: 'stream' } },
    auth: testAuthConfig,
    rules: [{ id: 'public-folder', key: 'public/*rest', when: [{ authenticated: true }] }],
  });
  alice = await bearer('alice');
});

after(async () => {
  await stack?.stop();
  await s3?.stop();
  if (base !== undefined) await rm(base, { recursive: true, force: true });
});

async function runCorpus(store: string): Promise<number> {
  const paths = attackPaths(store);
  const limit = pLimit(8);
  const failures: string[] = [];
  await Promise.all(
    paths.flatMap((p) =>
      [alice, {}].map((headers) =>
        limit(async () => {
          const res = await request(stack.port, p, { headers });
          if (!REFUSED.has(res.status)) failures.push(`${res.status} ${p}`);
          if (res.body.includes(SECRET)) failures.push(`secret leaked by ${p}`);
          // A short JSON reason from Sluice, or nginx's own error page for requests it refuses itself.
          if (!/^\{"error":"[^"]+"\}\n?$/.test(res.text()) && !/<center>nginx<\/center>/.test(res.text()))
            failures.push(`body of ${p}: ${res.text().slice(0, 80)}`);
          if (res.headers['x-injected'] !== undefined) failures.push(`header injected by ${p}`);
        }),
      ),
    ),
  );
  assert.deepEqual(failures, []);
  return paths.length * 2;
}

describe('key canonicalization attack corpus', () => {
  it('the allowed file is served (the corpus is not refused for a trivial reason)', async () => {
    for (const store of ['docs', 'media', 'streamed']) {
      const res = await request(stack.port, `/files/${store}/public/ok.txt`, { headers: alice });
      assert.equal(res.status, 200, store);
      assert.equal(res.text(), PUBLIC_BODY);
      assert.equal((await request(stack.port, `/files/${store}/private/secret.txt`, { headers: alice })).status, 403);
    }
  });

  for (const store of ['docs', 'media', 'streamed']) {
    it(`store "${store}": every variant is refused with 400/401/403/404 and leaks nothing`, async (t) => {
      const count = await runCorpus(store);
      t.diagnostic(`${count} attack requests`);
      assert.ok(count > 1400, `ran ${count} cases`);
    });
  }

  it('a traversal in the query string is not part of the key: only the named file is served (a raw "#" is part of the key, see the corpus)', async () => {
    for (const store of ['docs', 'media', 'streamed']) {
      for (const suffix of ['?/../private/secret.txt', '?key=../private/secret.txt']) {
        const res = await request(stack.port, `/files/${store}/public/ok.txt${suffix}`, { headers: alice });
        assert.equal(res.status, 200, suffix);
        assert.equal(res.text(), PUBLIC_BODY);
      }
    }
  });

  it('the NFC name is served, its NFD spelling is another key (404), not a bypass', async () => {
    const nfc = await request(stack.port, '/files/docs/public/caf%C3%A9.txt', { headers: alice });
    assert.equal(nfc.status, 200);
    assert.equal((await request(stack.port, '/files/docs/public/cafe%CC%81.txt', { headers: alice })).status, 404);
  });

  it('no answer in the corpus was a 5xx in the app log', () => {
    const errors = stack.logs().filter((l) => typeof l.status === 'number' && l.status >= 500);
    assert.deepEqual(errors, []);
  });
});
