// The worker's endpoints, as nginx's proxy_pass targets and the worker's own routes.

/** Image transforms: renders what the app's ticket describes. */
export const RENDER_PATH = '/render';

/** Encrypted stores: a download the app allowed (the worker decrypts). */
export const CRYPT_READ_PATH = '/crypt/read';

/** Encrypted stores: an upload the app allowed (the worker encrypts). */
export const CRYPT_WRITE_PATH = '/crypt/write';
