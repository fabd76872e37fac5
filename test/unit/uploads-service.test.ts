// Upload requests, part planning, reservations and multipart completion (S3 stubbed; the real
// thing runs in test/integration/uploads.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { uploadsSchema } from '../../src/config/uploads-schema.js';
import { PublicError } from '../../src/errors.js';
import { parseUploadRequest, planParts } from '../../src/uploads/request.js';
import { createMemoryReservations } from '../../src/uploads/reservations.js';
import { createUploadService, type UploadTarget } from '../../src/uploads/service.js';

const MIB = 1024 * 1024;
const config = uploadsSchema.parse({
  enabled: true,
  maxBytes: 100 * MIB,
  allowedContentTypes: ['text/plain'],
  multipartThresholdBytes: 8 * MIB,
  partSizeBytes: 5 * MIB,
});

const status = (fn: () => unknown): number | undefined => {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof PublicError ? error.status : -1;
  }
};

describe('parseUploadRequest', () => {
  it('canonicalizes the key like a download path', () => {
    const request = parseUploadRequest({ store: 's', key: 'a/café 100%.txt', size: 3, contentType: 'Text/Plain' }, config);
    assert.deepEqual(request.key.segments, ['a', 'café 100%.txt']);
    assert.equal(request.contentType, 'text/plain');
  });

  it('refuses bad bodies (400), large sizes (413) and other types (415)', () => {
    assert.equal(
      status(() => parseUploadRequest({ store: 's', key: 'a', size: -1 }, config)),
      400,
    );
    assert.equal(
      status(() => parseUploadRequest({ store: 's', key: 'a', size: 1, extra: 1 }, config)),
      400,
    );
    assert.equal(
      status(() => parseUploadRequest({ store: 's', key: '../a', size: 1, contentType: 'text/plain' }, config)),
      400,
    );
    assert.equal(
      status(() => parseUploadRequest({ store: 's', key: 'a', size: 100 * MIB + 1, contentType: 'text/plain' }, config)),
      413,
    );
    assert.equal(
      status(() => parseUploadRequest({ store: 's', key: 'a', size: 1, contentType: 'image/png' }, config)),
      415,
    );
    assert.equal(
      status(() => parseUploadRequest({ store: 's', key: 'a', size: 1, contentType: 'text/plain; charset=x' }, config)),
      415,
    );
  });
});

describe('planParts', () => {
  it('cuts full parts and a shorter last one', () => {
    assert.deepEqual(planParts(12, 5), [
      { partNumber: 1, size: 5 },
      { partNumber: 2, size: 5 },
      { partNumber: 3, size: 2 },
    ]);
    assert.deepEqual(
      planParts(10, 5).map((p) => p.size),
      [5, 5],
    );
  });
});

describe('uploads config', () => {
  it('is off by default and refuses more than 10000 parts', () => {
    assert.equal(uploadsSchema.parse(undefined).enabled, false);
    assert.equal(uploadsSchema.safeParse({ maxBytes: 10_001 * 5 * MIB, partSizeBytes: 5 * MIB }).success, false);
  });
});

describe('memory reservations', () => {
  it('holds a name once until it expires or is released', async () => {
    let now = 0;
    const store = createMemoryReservations(() => now);
    assert.equal(await store.reserve('k', 'a', 10), true);
    assert.equal(await store.reserve('k', 'b', 10), false);
    now = 10_001;
    assert.equal(await store.reserve('k', 'b', null), true);
    now = 1e12;
    assert.equal(await store.get('k'), 'b');
    await store.release('k');
    assert.equal(await store.reserve('k', 'c', 1), true);
  });

  it('is bounded: beyond maxEntries the least recently used name is forgotten', async () => {
    const store = createMemoryReservations(Date.now, 2);
    assert.equal(await store.reserve('a', 'x', null), true);
    assert.equal(await store.reserve('b', 'x', 60), true);
    assert.equal(await store.get('a'), 'x'); // "a" is now the most recently used
    assert.equal(await store.reserve('c', 'x', 60), true);
    assert.equal(await store.get('b'), null);
    assert.equal(await store.get('a'), 'x');
    assert.equal(await store.get('c'), 'x');
  });
});

function stubUploader(finalSize: number | null, removed: string[]): UploadTarget {
  let completed = false;
  return {
    head: async () => (completed && finalSize !== null ? { size: finalSize, etag: null, lastModified: null, metadata: {} } : null),
    delete: async (key) => {
      removed.push(key.value);
    },
    directUpload: {
      via: 'presigned-url',
      presignPut: async () => 'https://s3.example/put',
      createMultipart: async () => 'mp-1',
      presignPart: async (_key, _id, n) => `https://s3.example/part/${n}`,
      completeMultipart: async () => {
        completed = true;
      },
      abortMultipart: async () => undefined,
    },
  };
}

describe('multipart completion', () => {
  const request = parseUploadRequest({ store: 'media', key: 'big.bin', size: 12 * MIB, contentType: 'text/plain' }, config);

  it('deletes the object and frees the key when the final size differs (422)', async () => {
    const removed: string[] = [];
    const uploader = stubUploader(12 * MIB - 1, removed);
    const service = createUploadService(config, createMemoryReservations());
    const plan = await service.plan(request, uploader, 'alice');
    assert.ok('uploadId' in plan && plan.parts.length === 3);
    const parts = plan.parts.map((p) => ({ partNumber: p.partNumber, etag: `"e${p.partNumber}"` }));
    await assert.rejects(
      service.complete(plan.uploadId, parts, 'alice', () => uploader),
      (error: PublicError) => error.status === 422,
    );
    assert.deepEqual(removed, ['big.bin']);
    assert.ok('uploadId' in (await service.plan(request, stubUploader(null, []), 'alice')));
  });

  it('refuses a wrong part list and another subject, then makes the key permanent', async () => {
    const uploader = stubUploader(12 * MIB, []);
    const service = createUploadService(config, createMemoryReservations());
    const plan = await service.plan(request, uploader, 'alice');
    assert.ok('uploadId' in plan);
    const parts = plan.parts.map((p) => ({ partNumber: p.partNumber, etag: 'x' }));
    await assert.rejects(
      service.complete(plan.uploadId, parts.slice(1), 'alice', () => uploader),
      (error: PublicError) => error.status === 422,
    );
    await assert.rejects(
      service.complete(plan.uploadId, parts, 'bob', () => uploader),
      (error: PublicError) => error.status === 404,
    );
    assert.deepEqual(await service.complete(plan.uploadId, parts, 'alice', () => uploader), { store: 'media', key: 'big.bin', size: 12 * MIB });
    await assert.rejects(service.plan(request, stubUploader(null, []), 'alice'), (error: PublicError) => error.status === 409);
  });
});
