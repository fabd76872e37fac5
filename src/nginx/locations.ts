// Names of the internal nginx locations. The stores build X-Accel-Redirect targets with these
// and the config renderer declares the same locations, so the two can never drift apart.

/** Private response header carrying the presigned path+query for the S3 internal location. */
export const S3_PATH_HEADER = 'X-Sluice-S3-Path';

/**
 * Private response header carrying Content-Disposition in nginx mode: the internal locations
 * re-add it on success only, so nginx's own error pages never arrive as a named download.
 */
export const DISPOSITION_HEADER = 'X-Sluice-Disposition';

export function fsLocationPrefix(internalPrefix: string, store: string): string {
  return `${internalPrefix}/fs/${store}/`;
}

export function s3Location(internalPrefix: string, store: string): string {
  return `${internalPrefix}/s3/${store}`;
}

/**
 * nginx decodes the X-Accel-Redirect URI once before matching, so each segment is
 * percent-encoded (including "%", "?" and "#"), keeping the "/" separators.
 */
export function encodeKeyPath(segments: readonly string[]): string {
  return segments.map((s) => encodeURIComponent(s)).join('/');
}

/** Downloads from encrypted stores: nginx proxies to the worker, which decrypts. */
export function cryptLocation(internalPrefix: string): string {
  return `${internalPrefix}/crypt`;
}
