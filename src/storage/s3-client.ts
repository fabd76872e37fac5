// The one place an S3 client is configured: endpoint, region, path style, credentials, the
// checksum settings S3-compatible backends need, and timeouts and retries chosen by what the
// client is for. Every S3 client in Sluice comes from here.
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { S3StoreConfig } from '../config/schema.js';

export interface S3ClientProfile {
  /** Time to open a connection. */
  readonly connectionTimeoutMs: number;
  /** Time until the response headers arrive (the request body included); a slow response body is not cut off. */
  readonly requestTimeoutMs: number;
  /** Attempts per call, the first included. */
  readonly maxAttempts: number;
}

/**
 * `download`: the gateway's own reads and checks, with a client waiting: fail fast.
 * `transfer`: uploads (presigning, multipart, streamed parts of up to 8 MiB): data moves, so patient.
 * `operator`: operator commands (buckets, migrate, audit, reencrypt): patient, and retried once more.
 */
export const S3_PROFILES = {
  download: { connectionTimeoutMs: 3_000, requestTimeoutMs: 10_000, maxAttempts: 2 },
  transfer: { connectionTimeoutMs: 5_000, requestTimeoutMs: 120_000, maxAttempts: 2 },
  operator: { connectionTimeoutMs: 5_000, requestTimeoutMs: 120_000, maxAttempts: 3 },
} as const satisfies Record<string, S3ClientProfile>;

export interface S3ClientOptions {
  /** Replaces the store's keys (e.g. fixed ones for offline signing). Default: the store's keys, else the SDK's credential chain. */
  readonly credentials?: S3ClientConfig['credentials'];
}

export function createS3Client(config: S3StoreConfig, profile: S3ClientProfile, options: S3ClientOptions = {}): S3Client {
  const credentials = options.credentials ?? storeCredentials(config);
  return new S3Client({
    region: config.region,
    ...(config.endpoint !== undefined && { endpoint: config.endpoint }),
    forcePathStyle: config.forcePathStyle,
    ...(credentials !== undefined && { credentials }),
    // Default checksum behaviour adds headers/parameters that Swift and older MinIO reject.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: profile.maxAttempts,
    requestHandler: {
      connectionTimeout: profile.connectionTimeoutMs,
      requestTimeout: profile.requestTimeoutMs,
      // Without this the SDK only logs a warning when requestTimeout passes, and keeps waiting.
      throwOnRequestTimeout: true,
    },
  });
}

/** undefined: the SDK's default credential chain (environment, profile, instance role). */
function storeCredentials(config: S3StoreConfig): S3ClientConfig['credentials'] {
  if (config.accessKeyId === undefined || config.secretAccessKey === undefined) return undefined;
  return { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey };
}
