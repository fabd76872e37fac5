// The worker's crypt endpoints in-process, over a real fs store: tickets, write-once uploads,
// size limits, and reads with the HTTP semantics of a plain download.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Writable } from 'node:stream';
import Koa from 'koa';
import { Counter, Registry } from 'prom-client';
import { validateConfig } from '../../src/config/load.js';
import { parseHeader } from '../../src/crypto/format.js';
import type { DataKey } from '../../src/crypto/keys.js';
import { CRYPT_TICKET_HEADER } from '../../src/contract/tickets.js';
import { CRYPT_READ_PATH, CRYPT_WRITE_PATH } from '../../src/contract/worker-paths.js';
import { signCryptTicket } from '../../src/crypto/ticket.js';
import { createIntegrityReporter, initIntegrityCounter } from '../../src/worker/crypto/integrity.js';
import { cryptRoutes } from '../../src/worker/crypto/routes.js';
import { errorResponses } from '../../src/http/error-responses.js';
import { requestId } from '../../src/http/request-id.js';
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
/** Every JSON line the routes and the error middleware logged. */
const logLines: Record<string, unknown>[] = [];
const registry = new Registry();
const integrityFailures = new Counter({
  name: 'sluice_worker_crypt_integrity_failures_total',
  help: 'test',
  labelNames: ['store', 'reason'],
  registers: [registry],
});

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'sluice-crypt-unit-'));
  const config = validateConfig({ stores: { vault: { type: 'fs', root, encrypted: true }, plain: { type: 'fs', root } }, worker: { secret: SECRET } });
  const stores = await createStores(config);
  const app = new Koa();
  app.silent = true;
  const logger = createLogger(
    'info',
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) logLines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    }),
  );
  app.use(requestId);
  app.use(errorResponses(logger));
  initIntegrityCounter(integrityFailures, ['vault']);
  const router = cryptRoutes({
    secret: SECRET,
    stores,
    keys: (id) => (id === 'k1' ? k1 : undefined),
    integrity: createIntegrityReporter(logger, integrityFailures),
    writers: new Map([...stores].filter(([name]) => name === 'vault')),
    currentKey: () => current,
    chunkSize: CHUNK,
    maxBytes: 400_000,
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

const ticket = (op: 'read' | 'write', key: string, store = 'vault'): Record<string, string> => ({
  [CRYPT_TICKET_HEADER]: signCryptTicket({ op, store, segments: key.split('/') }, SECRET),
});
const write = (key: string, body: Buffer | string, headers = ticket('write', key)) => fetch(`${base}${CRYPT_WRITE_PATH}`, { method: 'PUT', headers, body });
const read = (key: string, headers: Record<string, string> = {}, store = 'vault') =>
  fetch(`${base}${CRYPT_READ_PATH}`, { headers: { ...ticket('read', key, store), ...headers } });

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
    assert.equal(
      (await read('docs/a.bin', { [CRYPT_TICKET_HEADER]: signCryptTicket({ op: 'read', store: 'vault', segments: ['docs', 'a.bin'] }, 'f'.repeat(40)) }))
        .status,
      403,
    );
    assert.equal((await read('docs/a.bin', {}, 'plain')).status, 403, 'the worker serves encrypted stores only');
    assert.equal((await read('missing.bin')).status, 404);
  });

  it('an upload over maxBytes is refused (413) and leaves nothing behind', async () => {
    const answer = await write('too/big.bin', randomBytes(400_001));
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
    const [line, ...more] = await integrityLines(answer.headers.get('x-request-id'));
    assert.deepEqual(more, []);
    assert.deepEqual(line?.integrity, {
      store: 'vault',
      key: 'orphan.bin',
      chunk: null,
      reason: 'unknown_key',
      detail: 'object is encrypted with key "gone", which the keyring does not hold',
      keyId: 'gone',
      use: 'read',
      afterHeaders: false,
    });
  });
});

describe('integrity failures: one log line each (store, key, chunk, reason) and a metric', () => {
  const SEALED = CHUNK + 16;
  const plain = randomBytes(80 * CHUNK + 7); // more than the fs store's first 256 KiB read
  let original: Buffer;
  const file = (): string => path.join(root, 'audit', 'damaged.bin');

  before(async () => {
    assert.equal((await write('audit/damaged.bin', plain)).status, 201);
    original = await readFile(file());
  });

  const flipChunk = async (chunk: number): Promise<void> => {
    const copy = Buffer.from(original);
    const at = 64 + chunk * SEALED + 10;
    copy[at] = (copy[at] as number) ^ 0x01;
    await writeFile(file(), copy);
  };

  it('damage in the first chunk: 500 before any byte, one line naming chunk 0, counted', async () => {
    const before = await failureCount('authentication');
    await flipChunk(0);
    const answer = await read('audit/damaged.bin');
    assert.equal(answer.status, 500);
    assert.deepEqual(await answer.json(), { error: 'stored object failed verification' });
    assert.equal(answer.headers.get('etag'), null, 'no validator of the object leaks into the error');
    const lines = await integrityLines(answer.headers.get('x-request-id'));
    assert.equal(lines.length, 1, JSON.stringify(logLines.filter((l) => l.requestId === answer.headers.get('x-request-id'))));
    assert.equal(lines[0]?.level, 50);
    assert.deepEqual(lines[0]?.integrity, {
      store: 'vault',
      key: 'audit/damaged.bin',
      chunk: 0,
      reason: 'authentication',
      detail: 'chunk failed authentication',
      use: 'read',
      afterHeaders: false,
    });
    // The error middleware does not add a second, vaguer line for the same request.
    assert.equal(logLines.filter((l) => l.requestId === answer.headers.get('x-request-id')).length, 1);
    assert.equal(await failureCount('authentication'), before + 1);
  });

  it('a range over a cut-off end, and a HEAD of a plain file: reason and chunk as found', async () => {
    await writeFile(file(), original.subarray(0, original.length - 20)); // the final chunk (7 bytes + tag) cut below a tag's length
    const cut = await read('audit/damaged.bin', { Range: 'bytes=-10' });
    assert.equal(cut.status, 500);
    assert.deepEqual(
      (await integrityLines(cut.headers.get('x-request-id'))).map((l) => l.integrity as { reason: string; chunk: unknown }),
      [
        {
          store: 'vault',
          key: 'audit/damaged.bin',
          chunk: null,
          reason: 'size',
          detail: 'encrypted object has an impossible size (truncated?)',
          use: 'read',
          afterHeaders: false,
        },
      ],
    );
    await writeFile(file(), Buffer.alloc(500, 'plain text, never encrypted. '));
    const head = await fetch(`${base}${CRYPT_READ_PATH}`, { method: 'HEAD', headers: ticket('read', 'audit/damaged.bin') });
    assert.equal(head.status, 500);
    const [line, ...more] = await integrityLines(head.headers.get('x-request-id'));
    assert.deepEqual(more, []);
    assert.deepEqual([(line?.integrity as { reason: string }).reason, (line?.integrity as { chunk: unknown }).chunk], ['header', null]);
  });

  it('damage in chunk 70, found after the headers went out: the download is cut, still exactly one line', async () => {
    const before = await failureCount('authentication');
    await flipChunk(70);
    const outcome = await rawRead('audit/damaged.bin');
    assert.equal(outcome.status, 200);
    assert.equal(outcome.complete, false);
    assert.ok(outcome.body.length <= 70 * CHUNK, `${outcome.body.length} bytes arrived`);
    assert.deepEqual(outcome.body, plain.subarray(0, outcome.body.length));
    const lines = await integrityLines(outcome.requestId);
    assert.equal(lines.length, 1);
    assert.deepEqual(lines[0]?.integrity, {
      store: 'vault',
      key: 'audit/damaged.bin',
      chunk: 70,
      reason: 'authentication',
      detail: 'chunk failed authentication',
      use: 'read',
      afterHeaders: true,
    });
    assert.equal(await failureCount('authentication'), before + 1);
  });

  it('no line carries plaintext or key material; every reason has a series from the start', async () => {
    const text = JSON.stringify(logLines);
    for (const secret of [
      k1.secret.toString('hex'),
      k1.secret.toString('base64'),
      plain.subarray(CHUNK, CHUNK + 24).toString('hex'),
      plain.subarray(CHUNK, CHUNK + 24).toString('base64'),
    ]) {
      assert.equal(text.includes(secret), false);
    }
    const series = (await integrityFailures.get()).values.map((v) => `${v.labels.store}/${v.labels.reason}`);
    for (const reason of ['header', 'size', 'authentication', 'truncated', 'trailing_data', 'unknown_key'])
      assert.ok(series.includes(`vault/${reason}`), reason);
  });
});

async function failureCount(reason: string): Promise<number> {
  return (await integrityFailures.get()).values.find((v) => v.labels.store === 'vault' && v.labels.reason === reason)?.value ?? 0;
}

/** The integrity lines of one request (a line written after a cut connection may lag a little). */
async function integrityLines(id: string | null | undefined): Promise<Record<string, unknown>[]> {
  assert.ok(id, 'the response names its request id');
  const find = (): Record<string, unknown>[] => logLines.filter((l) => l.requestId === id && l.msg === 'stored object failed verification');
  for (let i = 0; i < 50 && find().length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  return find();
}

/** A GET that may be cut: status, bytes that arrived, whether it completed, and its request id. */
function rawRead(key: string): Promise<{ status: number; body: Buffer; complete: boolean; requestId: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}${CRYPT_READ_PATH}`, { headers: ticket('read', key), agent: false }, (res) => {
      const chunks: Buffer[] = [];
      const finish = (complete: boolean): void =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), complete, requestId: res.headers['x-request-id'] as string | undefined });
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => finish(res.complete));
      res.on('error', () => finish(false));
      res.on('aborted', () => finish(false));
    });
    req.on('error', reject);
  });
}
