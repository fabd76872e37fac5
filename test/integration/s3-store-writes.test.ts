// The write side of s3 stores against real Swift s3api: put from memory (one PutObject) and from
// a stream (multipart above one part), head with user metadata, write-once, delete, and a
// presigned PUT the bucket accepts.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import { storeSchema, type S3StoreConfig } from '../../src/config/schema.js';
import { PublicError } from '../../src/errors.js';
import { canonicalizeKey } from '../../src/storage/key.js';
import { createS3Store } from '../../src/storage/s3-store.js';
import type { Store } from '../../src/storage/types.js';
import { s3ClientFor, startSwiftS3, type S3TestServer } from '../helpers/swift.js';

const BUCKET = 'store-writes';
const MIB = 1024 * 1024;

let server: S3TestServer;
let admin: S3Client;
let store: Store;

const key = canonicalizeKey;
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

before(async () => {
  server = await startSwiftS3();
  admin = s3ClientFor(server);
  await admin.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const config = storeSchema.parse({
    type: 's3',
    bucket: BUCKET,
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    delivery: 'stream',
  }) as S3StoreConfig;
  store = createS3Store('media', config, '/_sluice');
});

after(async () => {
  admin?.destroy();
  await server?.stop();
});

describe('s3 store writes (Swift s3api)', () => {
  it('puts a small body in one request; head reports size, ETag, date and user metadata', async () => {
    const body = Buffer.from('small object');
    await store.put(key('small/a.txt'), body, { contentType: 'text/plain', metadata: { sha256: sha256(body) }, mode: 'replace' });
    const head = await store.head(key('small/a.txt'));
    assert.equal(head?.size, body.length);
    assert.equal(head?.etag, `"${createHash('md5').update(body).digest('hex')}"`);
    assert.ok(head?.lastModified instanceof Date);
    assert.equal(head?.metadata.sha256, sha256(body));
    assert.deepEqual(await buffer(await store.read(key('small/a.txt'))), body);
    assert.equal(await store.head(key('small/missing.txt')), null);
  });

  it('streams a body of unknown length as a multipart upload', async () => {
    const body = randomBytes(17 * MIB);
    const chunks = [body.subarray(0, 5 * MIB), body.subarray(5 * MIB, 11 * MIB), body.subarray(11 * MIB)];
    await store.put(key('big/stream.bin'), Readable.from(chunks), { contentType: 'application/octet-stream', mode: 'replace' });
    const head = await store.head(key('big/stream.bin'));
    assert.equal(head?.size, body.length);
    // A multipart object's ETag is "<md5 of the part md5s>-<parts>": 8 MiB parts → 3.
    assert.match(head?.etag ?? '', /-3"$/);
    assert.equal(sha256(await buffer(await store.read(key('big/stream.bin')))), sha256(body));
  });

  it('create refuses an existing key (409) and keeps the object', async () => {
    await store.put(key('once.txt'), Buffer.from('first'), { contentType: 'text/plain', mode: 'create' });
    await assert.rejects(
      store.put(key('once.txt'), Readable.from([Buffer.from('second')]), { contentType: 'text/plain', mode: 'create' }),
      (error: unknown) => error instanceof PublicError && error.status === 409,
    );
    assert.equal((await buffer(await store.read(key('once.txt')))).toString(), 'first');
  });

  it('an aborted stream leaves no object and no multipart upload behind', async () => {
    const controller = new AbortController();
    let sent = 0;
    // 9 MiB, then the abort: the first part is in flight when the upload is cancelled.
    const body = new Readable({
      read() {
        if (sent < 9 * MIB) {
          sent += MIB;
          this.push(randomBytes(MIB));
        } else if (!controller.signal.aborted) {
          controller.abort();
        }
      },
    });
    await assert.rejects(store.put(key('aborted.bin'), body, { contentType: 'application/octet-stream', mode: 'replace', signal: controller.signal }));
    assert.equal(await store.head(key('aborted.bin')), null);
    const pending = await admin.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
    assert.deepEqual(
      (pending.Uploads ?? []).filter((upload) => upload.Key === 'aborted.bin'),
      [],
    );
  });

  it('delete removes the object; deleting a missing one succeeds', async () => {
    await store.put(key('gone.txt'), Buffer.from('x'), { contentType: 'text/plain', mode: 'replace' });
    await store.delete(key('gone.txt'));
    assert.equal(await store.head(key('gone.txt')), null);
    await store.delete(key('gone.txt'));
  });

  it('hands out a presigned PUT that the bucket accepts for the signed length and type only', async () => {
    assert.equal(store.directUpload.via, 'presigned-url');
    if (store.directUpload.via !== 'presigned-url') return;
    const url = await store.directUpload.presignPut(key('direct/d.txt'), 6, 'text/plain', 60);
    const wrongType = await fetch(url, { method: 'PUT', headers: { 'Content-Type': 'text/html' }, body: 'direct' });
    assert.equal(wrongType.status, 403);
    const ok = await fetch(url, { method: 'PUT', headers: { 'Content-Type': 'text/plain' }, body: 'direct' });
    assert.equal(ok.status, 200);
    assert.equal((await store.head(key('direct/d.txt')))?.size, 6);
  });
});
