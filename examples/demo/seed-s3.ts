// Uploads the demo's files to an S3 bucket (docker-compose: MinIO), from a temporary seed.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ownFiles, seedDemoStore, STAFF_GALLERY, USERS } from './catalog.js';

export async function seedDemoBucket(endpoint: string, bucket: string): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-demo-seed-'));
  const client = new S3Client({ endpoint, forcePathStyle: true, region: process.env.AWS_REGION ?? 'us-east-1' });
  try {
    await seedDemoStore(dir);
    for (const key of [...USERS.flatMap((u) => ownFiles(u.name)), ...STAFF_GALLERY]) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: await readFile(path.join(dir, ...key.split('/'))) }));
    }
  } finally {
    client.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}
