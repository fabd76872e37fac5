// The keyring file and the master password source: sealed under scrypt + AES-GCM, rotated,
// re-wrapped, written atomically; the password read from a descriptor or pipe, never a plain file.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { validateConfig } from '../../src/config/load.js';
import { addKey, createKeyring, KeyringError, openKeyring, rewrapKeyring } from '../../src/crypto/keyring.js';
import { loadKeyring, readPassword } from '../../src/crypto/password.js';
import { configError } from '../helpers/config-error.js';

const FAST = { kdfCost: 2 ** 12 };
let dir: string;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-keyring-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('keyring file', () => {
  it('create → open: one key, 32 random bytes, the current one; the file holds no secret in clear', async () => {
    const file = path.join(dir, 'a.json');
    const created = await createKeyring(file, 'pw', FAST);
    assert.equal(created.current.id, 'k1');
    assert.equal(created.current.secret.length, 32);
    const opened = await openKeyring(file, 'pw');
    assert.deepEqual(opened.current.secret, created.current.secret);
    const text = await readFile(file, 'utf8');
    assert.doesNotMatch(text, new RegExp(created.current.secret.toString('base64').replace(/[+/=]/g, '.')));
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    await assert.rejects(createKeyring(file, 'pw', FAST), KeyringError, 'never overwrites');
  });

  it('add: new keys get the next id and become current; old ones still resolve', async () => {
    const file = path.join(dir, 'b.json');
    const first = (await createKeyring(file, 'pw', FAST)).current;
    const second = await addKey(file, 'pw');
    assert.equal(second.id, 'k2');
    await addKey(file, 'pw', { id: 'spring-2027' });
    const ring = await openKeyring(file, 'pw');
    assert.deepEqual(
      ring.keys.map((k) => k.id),
      ['k1', 'k2', 'spring-2027'],
    );
    assert.equal(ring.current.id, 'spring-2027');
    assert.deepEqual(ring.get('k1')?.secret, first.secret);
    await assert.rejects(addKey(file, 'pw', { id: 'k2' }), /already holds a key "k2"/);
    await assert.rejects(addKey(file, 'pw', { id: 'no spaces' }), /invalid key id/);
    assert.equal((await readdir(dir)).filter((f) => f.endsWith('.tmp')).length, 0, 'no temp files left');
  });

  it('a wrong password and a tampered file are the same error', async () => {
    const file = path.join(dir, 'c.json');
    await createKeyring(file, 'right', FAST);
    await assert.rejects(
      openKeyring(file, 'wrong'),
      (e: unknown) => e instanceof KeyringError && e.message === 'wrong master password or damaged keyring file',
    );
    const sealed = JSON.parse(await readFile(file, 'utf8')) as { kdf: { N: number }; ciphertext: string };
    for (const tamper of [
      { ...sealed, kdf: { ...sealed.kdf, N: sealed.kdf.N * 2 } },
      { ...sealed, ciphertext: `A${sealed.ciphertext.slice(1)}` },
    ]) {
      await writeFile(path.join(dir, 'c2.json'), JSON.stringify(tamper));
      await assert.rejects(openKeyring(path.join(dir, 'c2.json'), 'right'), KeyringError);
    }
    await writeFile(path.join(dir, 'c3.json'), 'not json');
    await assert.rejects(openKeyring(path.join(dir, 'c3.json'), 'right'), KeyringError);
  });

  it('rewrap: the same keys under a new password; the old password stops working', async () => {
    const file = path.join(dir, 'd.json');
    const key = (await createKeyring(file, 'old', FAST)).current;
    await rewrapKeyring(file, 'old', 'new');
    assert.deepEqual((await openKeyring(file, 'new')).current.secret, key.secret);
    await assert.rejects(openKeyring(file, 'old'), KeyringError);
    await assert.rejects(rewrapKeyring(file, 'wrong', 'x'), KeyringError);
  });
});

describe('master password source', () => {
  it('a named pipe: the whole content, one trailing newline removed', async () => {
    const fifo = path.join(dir, 'pw.fifo');
    execFileSync('mkfifo', [fifo]);
    const writer = spawn('sh', ['-c', `printf 'pipe secret\\n' > '${fifo}'`]);
    const written = new Promise((resolve) => writer.once('exit', resolve));
    assert.equal((await readPassword(fifo, { allowRegularFile: false })).toString(), 'pipe secret');
    assert.equal(await written, 0);
  });

  it('an inherited descriptor (/dev/fd/N), as `sluice worker 3< <(…)` gives it', () => {
    // A child process reads its own fd 3 (a pipe here) through the real function.
    const script = `import('${path.resolve('src/crypto/password.ts').replace(/\\/g, '/')}').then(async (m) => process.stdout.write((await m.readPassword('/dev/fd/3', { allowRegularFile: false })).toString()))`;
    const out = execFileSync('bash', ['-c', `"${process.execPath}" --import tsx -e "${script.replace(/"/g, '\\"')}" 3< <(printf 'fd secret\\r\\n')`], {
      encoding: 'utf8',
    });
    assert.equal(out, 'fd secret');
  });

  it('a regular file is refused unless allowed (tmpfs secrets); empty is refused', async () => {
    const file = path.join(dir, 'pw.txt');
    await writeFile(file, 'file secret\n');
    await assert.rejects(readPassword(file, { allowRegularFile: false }), /regular file: a master password must not rest on disk in clear/);
    assert.equal((await readPassword(file, { allowRegularFile: true })).toString(), 'file secret');
    await writeFile(file, '\n');
    await assert.rejects(readPassword(file, { allowRegularFile: true }), /empty password/);
  });

  it('start-up errors name the setting', async () => {
    const file = path.join(dir, 'e.json');
    await createKeyring(file, 'right', FAST);
    const pwFile = path.join(dir, 'pw-wrong.txt');
    await writeFile(pwFile, 'wrong');
    const encryption = (settings: Record<string, unknown>) => validateConfig({ stores: { v: { type: 'fs', root: dir } }, encryption: settings }).encryption;
    const failure = async (settings: Record<string, unknown>): Promise<string> => {
      try {
        await loadKeyring(encryption(settings));
      } catch (error) {
        return configError(() => {
          throw error;
        });
      }
      return assert.fail('expected a ConfigError');
    };
    assert.match(await failure({ passwordFile: pwFile }), /encryption\.keyringFile \(SLUICE_ENCRYPTION__KEYRING_FILE\): required/);
    assert.match(await failure({ keyringFile: file }), /encryption\.passwordFile \(SLUICE_ENCRYPTION__PASSWORD_FILE\): required/);
    assert.match(await failure({ keyringFile: path.join(dir, 'missing.json'), passwordFile: pwFile }), /encryption\.keyringFile .*sluice keys init/);
    assert.match(await failure({ keyringFile: file, passwordFile: pwFile }), /encryption\.passwordFile .*regular file/);
    assert.match(
      await failure({ keyringFile: file, passwordFile: pwFile, allowRegularPasswordFile: true }),
      /encryption\.passwordFile \(SLUICE_ENCRYPTION__PASSWORD_FILE\): wrong master password or damaged keyring file/,
    );
    await writeFile(pwFile, 'right');
    assert.equal((await loadKeyring(encryption({ keyringFile: file, passwordFile: pwFile, allowRegularPasswordFile: true }))).current.id, 'k1');
  });
});
