// The keyring and encryption commands as an operator runs them: real `sluice` processes, the
// master password on a pipe (fd 3), an fs store on disk and a real S3 server (Swift s3api).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parseHeader } from '../../src/crypto/format.js';
import { spawnSluice } from '../helpers/cli-process.js';
import { startSwiftS3, s3ClientFor, type S3TestServer, s3StoreAccess } from '../helpers/swift.js';

const PASSWORD = 'operator master password';
let dir: string;
let root: string;
let keyring: string;
let configFile: string;
let s3: S3TestServer;
let client: S3Client;

/** Runs `sluice …` with the password on fd 3 (and more inputs on fd 4, …); resolves exit code + output. */
async function sluice(args: string[], inputs: string[] = [PASSWORD]): Promise<{ code: number | null; output: string }> {
  const run = spawnSluice(args, { SLUICE_CONFIG: configFile }, inputs);
  const code = await run.exited;
  return { code, output: run.output() };
}

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-keyring-cli-'));
  root = path.join(dir, 'vault');
  await mkdir(root);
  keyring = path.join(dir, 'keyring.json');
  s3 = await startSwiftS3();
  client = s3ClientFor(s3);
  await client.send(new CreateBucketCommand({ Bucket: 'vault' }));
  configFile = path.join(dir, 'sluice.json');
  await writeFile(
    configFile,
    JSON.stringify({
      stores: {
        vault: { type: 'fs', root, encrypted: true },
        cloud: {
          type: 's3',
          bucket: 'vault',
          ...s3StoreAccess(s3),
          encrypted: true,
        },
        plain: { type: 'fs', root: dir },
      },
      encryption: { keyringFile: keyring, passwordFile: '/dev/fd/3' },
    }),
  );
});

after(async () => {
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('sluice keys (data keys)', () => {
  it('init creates the keyring; a second init refuses; list --data shows fingerprints, never secrets', async () => {
    const init = await sluice(['keys', 'init']);
    assert.equal(init.code, 0, init.output);
    assert.match(init.output, /created .*keyring\.json with data key k1 \([0-9a-f]{12}\)/);
    assert.equal((await sluice(['keys', 'init'])).code, 1);
    const list = await sluice(['keys', 'list', '--data']);
    assert.match(list.output, /^data\tk1\t[0-9a-f]{12}\t\d{4}-\d\d-\d\dT[^\t]+\twrites\n$/);
  });

  it('the wrong master password is refused with one clear line', async () => {
    const wrong = await sluice(['keys', 'list', '--data'], ['not the password']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.output, /wrong master password or damaged keyring file/);
    assert.doesNotMatch(wrong.output, /\n\s+at /, 'no stack trace');
  });

  it('a regular file as the password source is refused (the password must not rest on disk)', async () => {
    const file = path.join(dir, 'pw.txt');
    await writeFile(file, PASSWORD);
    const refused = await sluice(['keys', 'list', '--data', '--password-file', file], []);
    assert.equal(refused.code, 1);
    assert.match(refused.output, /regular file/);
    assert.equal((await sluice(['keys', 'list', '--data', '--password-file', file, '--allow-regular-password-file'], [])).code, 0);
  });

  it('rewrap: the new password opens it, the old one no longer does', async () => {
    const rewrap = await sluice(['keys', 'rewrap', '--new-password-file', '/dev/fd/4'], [PASSWORD, 'temporary password']);
    assert.equal(rewrap.code, 0, rewrap.output);
    assert.equal((await sluice(['keys', 'list', '--data'])).code, 1);
    assert.equal((await sluice(['keys', 'list', '--data'], ['temporary password'])).code, 0);
    assert.equal((await sluice(['keys', 'rewrap', '--new-password-file', '/dev/fd/4'], ['temporary password', PASSWORD])).code, 0);
  });
});

describe('sluice encrypt-file / decrypt-file', () => {
  for (const size of [0, 200 * 1024 + 3]) {
    it(`${size} bytes round-trip; the ciphertext holds no plaintext`, async () => {
      const plain = randomBytes(size);
      await writeFile(path.join(dir, 'in.bin'), plain);
      assert.equal((await sluice(['encrypt-file', path.join(dir, 'in.bin'), path.join(dir, 'in.enc')])).code, 0);
      const sealed = await readFile(path.join(dir, 'in.enc'));
      assert.equal(parseHeader(sealed).keyId, 'k1');
      if (size > 0) assert.equal(sealed.indexOf(plain.subarray(0, 32)), -1);
      assert.equal((await sluice(['decrypt-file', path.join(dir, 'in.enc'), path.join(dir, 'out.bin')])).code, 0);
      assert.deepEqual(await readFile(path.join(dir, 'out.bin')), plain);
      await rm(path.join(dir, 'out.bin'));
    });
  }

  it('--name binds the file to a store key: decrypting it without (or under another) name fails', async () => {
    await writeFile(path.join(dir, 'named.bin'), 'bound to a key');
    assert.equal((await sluice(['encrypt-file', '--name', 'a/b.txt', path.join(dir, 'named.bin'), path.join(dir, 'named.enc')])).code, 0);
    assert.equal((await sluice(['decrypt-file', path.join(dir, 'named.enc'), path.join(dir, 'named.out')])).code, 1);
    assert.equal((await sluice(['decrypt-file', '--name', 'a/c.txt', path.join(dir, 'named.enc'), path.join(dir, 'named.out')])).code, 1);
    assert.equal((await sluice(['decrypt-file', '--name', 'a/b.txt', path.join(dir, 'named.enc'), path.join(dir, 'named.out')])).code, 0);
    assert.equal(await readFile(path.join(dir, 'named.out'), 'utf8'), 'bound to a key');
  });

  it('a tampered file: exit 1, a one-line reason, and no output file at all', async () => {
    const sealed = await readFile(path.join(dir, 'in.enc'));
    sealed[sealed.length - 5] = (sealed[sealed.length - 5] as number) ^ 1;
    await writeFile(path.join(dir, 'tampered.enc'), sealed);
    const result = await sluice(['decrypt-file', path.join(dir, 'tampered.enc'), path.join(dir, 'tampered.out')]);
    assert.equal(result.code, 1);
    assert.match(result.output, /ciphertext is damaged or was tampered with/);
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f.includes('tampered.out')),
      [],
    );
  });
});

describe('sluice reencrypt after a key rotation', () => {
  const fsObjects = { 'a.bin': randomBytes(150_000), 'deep/b.bin': randomBytes(10) };
  const s3Objects = { 'x/one.bin': randomBytes(70_000), 'two.bin': randomBytes(0) };

  before(async () => {
    // Objects written under k1 (encrypt-file writes the store format, as the worker does).
    for (const [key, plain] of Object.entries({ ...fsObjects, ...s3Objects })) {
      await mkdir(path.dirname(path.join(dir, 'src', key)), { recursive: true });
      await writeFile(path.join(dir, 'src', key), plain);
      const target = key in fsObjects ? path.join(root, key) : path.join(dir, 'sealed', key);
      await mkdir(path.dirname(target), { recursive: true });
      // --name binds the store key into the ciphertext, as the worker does on upload.
      assert.equal((await sluice(['encrypt-file', '--name', key, path.join(dir, 'src', key), target])).code, 0);
      if (key in s3Objects) await client.send(new PutObjectCommand({ Bucket: 'vault', Key: key, Body: await readFile(target) }));
    }
    await writeFile(path.join(root, 'not-encrypted.txt'), 'a plain file someone dropped here');
    const add = await sluice(['keys', 'add']);
    assert.match(add.output, /added data key k2/);
  });

  const s3Bytes = async (key: string): Promise<Buffer> => {
    const object = await client.send(new GetObjectCommand({ Bucket: 'vault', Key: key }));
    return Buffer.from(await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
  };

  it('fs: moves every object to k2 (plaintext unchanged), reports the damaged one, exit 1; a re-run moves nothing', async () => {
    const dry = await sluice(['reencrypt', '--store', 'vault', '--dry-run']);
    assert.match(dry.output, /would move 2 to k2, already current 0, failed 1/);
    assert.equal(parseHeader(await readFile(path.join(root, 'a.bin'))).keyId, 'k1', 'dry run changes nothing');
    const manifest = path.join(dir, 'manifest.jsonl');
    const run = await sluice(['reencrypt', '--store', 'vault', '--manifest', manifest]);
    assert.equal(run.code, 1, run.output);
    assert.match(run.output, /failed\tnot-encrypted\.txt\tdamaged/);
    assert.match(run.output, /moved 2 to k2, already current 0, failed 1/);
    for (const [key, plain] of Object.entries(fsObjects)) {
      assert.equal(parseHeader(await readFile(path.join(root, key))).keyId, 'k2');
      assert.equal((await sluice(['decrypt-file', '--name', key, path.join(root, key), path.join(dir, 'check.bin')])).code, 0);
      assert.deepEqual(await readFile(path.join(dir, 'check.bin')), plain);
    }
    assert.equal(await readFile(path.join(root, 'not-encrypted.txt'), 'utf8'), 'a plain file someone dropped here');
    const lines = (await readFile(manifest, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { key: string; from: string; to: string });
    assert.deepEqual(lines.map((l) => l.key).sort(), ['a.bin', 'deep/b.bin']);
    assert.ok(lines.every((l) => l.from === 'k1' && l.to === 'k2'));
    const again = await sluice(['reencrypt', '--store', 'vault']);
    assert.match(again.output, /moved 0 to k2, already current 2, failed 1/);
  });

  it('s3: moves every object to k2 through the real S3 API; the plaintext is unchanged', async () => {
    const run = await sluice(['reencrypt', '--store', 'cloud', '--concurrency', '2']);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /moved 2 to k2, already current 0, failed 0/);
    for (const [key, plain] of Object.entries(s3Objects)) {
      const sealed = await s3Bytes(key);
      assert.equal(parseHeader(sealed).keyId, 'k2');
      await writeFile(path.join(dir, 'check.enc'), sealed);
      assert.equal((await sluice(['decrypt-file', '--name', key, path.join(dir, 'check.enc'), path.join(dir, 'check2.bin')])).code, 0);
      assert.deepEqual(await readFile(path.join(dir, 'check2.bin')), plain);
      await rm(path.join(dir, 'check2.bin'));
    }
  });

  it('refuses a store that is not encrypted', async () => {
    const run = await sluice(['reencrypt', '--store', 'plain']);
    assert.equal(run.code, 1);
    assert.match(run.output, /store "plain" is not encrypted/);
  });
});
