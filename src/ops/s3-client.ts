// Helpers of the operator commands around S3: the client (patient timeouts, because uploads and
// audits move real data instead of failing fast for a waiting download), store lookup, error text.
import type { S3Client } from '@aws-sdk/client-s3';
import type { S3StoreConfig, SluiceConfig } from '../config/schema.js';
import { PublicError } from '../errors.js';
import { createS3Client, S3_PROFILES } from '../storage/s3-client.js';

export function opsS3Client(config: S3StoreConfig): S3Client {
  return createS3Client(config, S3_PROFILES.operator);
}

/** The named store, which must be of the given type (a usage error names what was found). */
export function storeOfType<T extends 'fs' | 's3'>(config: SluiceConfig, name: string, type: T): Extract<SluiceConfig['stores'][string], { type: T }> {
  const store = config.stores[name];
  if (store === undefined) throw new Error(`no store named "${name}" (configured: ${Object.keys(config.stores).join(', ')})`);
  if (store.type !== type) throw new Error(`store "${name}" is an ${store.type} store, expected ${type}`);
  return store as Extract<SluiceConfig['stores'][string], { type: T }>;
}

/** Error name and HTTP status of an SDK error, for reports. */
export function describeS3Error(error: unknown): string {
  // A store's write side wraps SDK errors in a 502 for HTTP callers; a report wants the SDK's own.
  if (error instanceof PublicError && error.cause !== undefined) return describeS3Error(error.cause);
  const e = error as { name?: unknown; message?: unknown; $metadata?: { httpStatusCode?: number } } | null;
  const status = e?.$metadata?.httpStatusCode;
  const name = typeof e?.name === 'string' ? e.name : 'Error';
  const message = typeof e?.message === 'string' && e.message !== '' ? `: ${e.message}` : '';
  // Not an SDK error (a verification or file-system problem): its message says it all.
  if (status === undefined && typeof e?.message === 'string' && e.message !== '') return e.message;
  return `${name}${status === undefined ? '' : ` (HTTP ${status})`}${message}`;
}
