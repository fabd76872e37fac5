// The one S3 client factory: S3-compatible settings, and timeouts that really end a call.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import type { S3StoreConfig } from '../../src/config/schema.js';
import { createS3Client, S3_PROFILES } from '../../src/storage/s3-client.js';

describe('S3 client factory', () => {
  let silent: http.Server;
  let endpoint: string;

  before(async () => {
    // Accepts every request and never answers.
    silent = http.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  });

  after(async () => {
    silent.closeAllConnections();
    await new Promise((resolve) => silent.close(resolve));
  });

  const store = (): S3StoreConfig =>
    ({ type: 's3', bucket: 'media', region: 'us-east-1', endpoint, forcePathStyle: true, accessKeyId: 'AKID', secretAccessKey: 'secret' }) as S3StoreConfig;

  it('keeps the settings Swift s3api and older MinIO need', async () => {
    const client = createS3Client(store(), S3_PROFILES.download);
    try {
      assert.equal(await client.config.requestChecksumCalculation(), 'WHEN_REQUIRED');
      assert.equal(await client.config.responseChecksumValidation(), 'WHEN_REQUIRED');
      assert.equal(client.config.forcePathStyle, true);
      assert.equal(await client.config.maxAttempts(), S3_PROFILES.download.maxAttempts);
    } finally {
      client.destroy();
    }
  });

  it('ends a call the backend never answers with a TimeoutError at requestTimeoutMs', async () => {
    const client = createS3Client(store(), { connectionTimeoutMs: 1000, requestTimeoutMs: 200, maxAttempts: 1 });
    try {
      await assert.rejects(client.send(new HeadObjectCommand({ Bucket: 'media', Key: 'a.txt' })), { name: 'TimeoutError' });
    } finally {
      client.destroy();
    }
  });

  it('gives every profile finite timeouts', () => {
    for (const [name, profile] of Object.entries(S3_PROFILES)) {
      assert.ok(Number.isFinite(profile.connectionTimeoutMs) && profile.connectionTimeoutMs > 0, name);
      assert.ok(Number.isFinite(profile.requestTimeoutMs) && profile.requestTimeoutMs > 0, name);
    }
  });
});
