// The shared result store's names between the worker and nginx: the internal locations the
// worker's X-Accel-Redirect points at when a result is already stored, and the private header
// carrying an S3 result's presigned path. The renderer declares the same locations.

/** Private worker response header: the presigned path+query of a stored result (S3). */
export const RESULT_PATH_HEADER = 'X-Sluice-Img-Result-Path';

/** A result in an S3 result store: nginx fetches the presigned path (RESULT_PATH_HEADER). */
export function imageResultLocation(internalPrefix: string): string {
  return `${internalPrefix}/img-result`;
}

/** A result in an fs result store: nginx serves `<prefix><2 hex>/<64 hex>` below the store's root. */
export function imageResultFsLocation(internalPrefix: string): string {
  return `${internalPrefix}/img-result-fs/`;
}
