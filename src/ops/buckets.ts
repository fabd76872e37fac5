// Creating dynamic buckets ahead of need: the current period's and the next one's, so writes at
// a period boundary never hit a missing bucket. Idempotent: an existing bucket is left alone.
import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { bucketForPeriod, granularityOf, nextPeriod, periodOf } from '../config/dynamic-bucket.js';

export interface EnsuredBucket {
  readonly period: string;
  readonly bucket: string;
  readonly created: boolean;
}

export interface TemplateSettings {
  readonly bucketTemplate: string;
  readonly bucketSecret?: string | undefined;
}

export async function ensureBuckets(client: S3Client, settings: TemplateSettings, now: Date): Promise<EnsuredBucket[]> {
  const granularity = granularityOf(settings.bucketTemplate);
  const current = periodOf(granularity, now);
  const results: EnsuredBucket[] = [];
  for (const period of [current, nextPeriod(granularity, current)]) {
    const bucket = bucketForPeriod(settings.bucketTemplate, settings.bucketSecret ?? '', period);
    results.push({ period, bucket, created: await createIfMissing(client, bucket) });
  }
  return results;
}

async function createIfMissing(client: S3Client, bucket: string): Promise<boolean> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
    return false;
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 404) throw error;
  }
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    return true;
  } catch (error) {
    // Another operator (or a concurrent run) created it in between.
    if ((error as { name?: string }).name === 'BucketAlreadyOwnedByYou') return false;
    throw error;
  }
}
