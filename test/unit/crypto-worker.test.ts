// The worker's crypt endpoints in-process, over a real fs store: tickets, write-once uploads,
// size limits, and reads with the HTTP semantics of a plain download.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Koa from 'koa';
import { validateConfig } from '../../src/config/load.js';
import { parseHeader } from '../../src/crypto/format.js';
import type { DataKey } from '../../src/crypto/keys.js';
import { CRYPT_READ_PATH, CRYPT_TICKET_HEADER, CRYPT_WRITE_PATH, signCryptTicket } from '../../src/crypto/ticket.js';
import { createObjectWriter } from '../../src/crypto/worker/object-writer.js';
import { cryptRoutes } from '../../src/crypto/worker/routes.js';
import { errorResponses } from '../../src/http/error-responses.js';
import { createLogger } from '../../src/observability/logger.js';
import { createStores } from '../../src/storage/registry.js';
import { UPLOAD_TMP_DIR } from '../../src/uploads/fs-finalize.js';

const SECRET = 's'.repeat(40);
const CHUNK = 4096;
const k1: DataKey = { id: 'k1', secret: randomBytes(32), createdAt: '2026-01-01T00:00:00Z' };
let current = k1;
let root: string;
let server: Server;
let base: string;

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'sluice-crypt-unit-'));
  const config = validateConfig({ stores: { vault: { type: 'fs', root, encrypted: true }, plain: { type: 'fs', root } }, worker: { secret: SECRET } });
  const stores = await createStores(config);
  const app = new Koa();
  app.silent = true;
  app.use(errorResponses(createLogger('silent')));
  const router = cryptRoutes({
    secret: SECRET,
    stores,
    keys: (id) => (id === 'k1' ? k1 : undefined),
    writers: new Map([['vault', createObjectWriter(config.stores.vault as never)]]),
    currentKey: () => current,
    chunkSize: CHUNK,
    maxBytes: 100_000,
  });
  app.use(router.routes());
  server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server?.close();
  await rm(root, { recursive: true, force: true });
});

const ticket = (op: 'read' | 'write', key: string, store = 'vault'): Record<string, string> => ({ [CRYPT_TICKET_HEADER]: signCryptTicket({ op, store, segments: key.split('/') }, SECRET) });
const write = (key: string, body: Buffer | string, headers = ticket('write', key)) => fetch(`${base}${CRYPT_WRITE_PATH}`, { method: 'PUT', headers, body });
const read = (key: string, headers: Record<string, string> = {}, store = 'vault') => fetch(`${base}${CRYPT_READ_PATH}`, { headers: { ...ticket('read', key, store), ...headers } });

describe('crypt worker routes', () => {
  it('write: encrypts under the current key, answers 201 with the plaintext size, refuses a second write (409)', async () => {
    const plain = randomBytes(3 * CHUNK + 5);
    const first = await write('docs/a.bin', plain);
    assert.equal(first.status, 201);
    assert.deepEqual(await first.json(), { store: 'vault', key: 'docs/a.bin', size: plain.length, keyId: 'k1' });
    const atRest = await readFile(path.join(root, 'docs/a.bin'));
    assert.equal(parseHeader(atRest).keyId, 'k1');
    const again = await write('docs/a.bin', 'other bytes');
    assert.equal(again.status, 409);
    const back = await read('docs/a.bin');
    assert.equal(back.status, 200);
    assert.deepEqual(Buffer.from(await back.arrayBuffer()), plain);
  });

  it('read: ranges, 416 and HEAD over the decrypted size', async () => {
    const plain = randomBytes(2 * CHUNK + 100);
    assert.equal((await write('r.bin', plain)).status, 201);
    const part = await read('r.bin', { Range: `bytes=${CHUNK - 2}-${CHUNK + 2}` });
    assert.equal(part.status, 206);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), plain.subarray(CHUNK - 2, CHUNK + 3));
    assert.equal((await read('r.bin', { Range: `bytes=${plain.length}-` })).status, 416);
    const head = await fetch(`${base}${CRYPT_READ_PATH}`, { method: 'HEAD', headers: ticket('read', 'r.bin') });
    assert.equal(head.headers.get('content-length'), String(plain.length));
  });

  it('refuses missing, forged, swapped (read as write) tickets and plain stores', async () => {
    assert.equal((await fetch(`${base}${CRYPT_READ_PATH}`)).status, 403);
    assert.equal((await write('x.bin', 'x', ticket('read', 'x.bin'))).status, 403);
    assert.equal((await read('docs/a.bin', { [CRYPT_TICKET_HEADER]: signCryptTicket({ op: 'read', store: 'vault', segments: ['docs', 'a.bin'] }, 'f'.repeat(40)) })).status, 403);
    assert.equal((await read('docs/a.bin', {}, 'plain')).status, 403, 'the worker serves encrypted stores only');
    assert.equal((await read('missing.bin')).status, 404);
  });

  it('an upload over maxBytes is refused (413) and leaves nothing behind', async () => {
    const answer = await write('too/big.bin', randomBytes(100_001));
    assert.equal(answer.status, 413);
    await assert.rejects(readFile(path.join(root, 'too/big.bin')));
    assert.deepEqual(await readdir(path.join(root, UPLOAD_TMP_DIR)), []);
  });

  it('an object whose key id the keyring lacks → 500 (nginx answers it as a storage error), no bytes', async () => {
    current = { id: 'gone', secret: randomBytes(32), createdAt: '2026-01-01T00:00:00Z' };
    try {
      assert.equal((await write('orphan.bin', 'sealed under a key the reader lacks')).status, 201);
    } finally {
      current = k1;
    }
    const answer = await read('orphan.bin');
    assert.equal(answer.status, 500);
    assert.deepEqual(await answer.json(), { error: 'stored object cannot be decrypted' });
  });
});
