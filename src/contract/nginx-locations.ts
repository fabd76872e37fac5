// Paths of nginx's locations that the app names too: the internal targets of X-Accel-Redirect and
// auth_request, and the upload paths nginx handles before the app sees a byte. The app builds its
// answers with these and the renderer declares the same locations, so the two cannot drift apart.

/** Downloads from an fs store: nginx serves the file below the store's root. */
export function fsLocationPrefix(internalPrefix: string, store: string): string {
  return `${internalPrefix}/fs/${store}/`;
}

/** Downloads from an S3 store: nginx fetches the presigned path (S3_PATH_HEADER). */
export function s3Location(internalPrefix: string, store: string): string {
  return `${internalPrefix}/s3/${store}`;
}

/** Downloads from encrypted stores: nginx proxies to the worker, which decrypts. */
export function cryptLocation(internalPrefix: string): string {
  return `${internalPrefix}/crypt`;
}

/** Image transforms: nginx serves the cached result or asks the worker. */
export function imageLocation(internalPrefix: string): string {
  return `${internalPrefix}/img`;
}

/** The auth_request target of protected locations; the app answers on the same path. */
export function authRequestLocation(internalPrefix: string): string {
  return `${internalPrefix}/auth`;
}

/** The auth_request target nginx asks before reading an upload's body. */
export function uploadAuthLocation(internalPrefix: string): string {
  return `${internalPrefix}/upload-auth`;
}

/** Uploads to fs stores: nginx keeps the body in a temp file and passes its path (BODY_FILE_HEADER). */
export function fsUploadPath(prefix: string): string {
  return `${prefix}/_uploads/fs/`;
}

/** Uploads to encrypted stores (fs or s3): nginx streams the body to the worker, which encrypts. */
export function encryptedUploadPath(prefix: string): string {
  return `${prefix}/_uploads/encrypted/`;
}

/**
 * nginx decodes the X-Accel-Redirect URI once before matching, so each segment is
 * percent-encoded (including "%", "?" and "#"), keeping the "/" separators.
 */
export function encodeKeyPath(segments: readonly string[]): string {
  return segments.map((s) => encodeURIComponent(s)).join('/');
}
