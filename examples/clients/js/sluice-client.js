// Sluice client helpers for host applications (Node ≥ 18, no dependencies; copy this file).
//   signImgproxyPath / imgproxyUrl  imgproxy-compatible signed transform URLs (Sluice's /img)
//   createShareLink / revokeShareLink  the share-link API, called server-side with the user's token
import { createHmac } from 'node:crypto';

/**
 * Signs an imgproxy path ("/rs:fill:300:200/plain/local:///a.jpg@webp"): returns
 * "/<signature><path>". Signature = base64url(HMAC-SHA256(key, salt ‖ path)), truncated to
 * `signatureSize` bytes (imgproxy's IMGPROXY_SIGNATURE_SIZE, default 32).
 */
export function signImgproxyPath(path, keyHex, saltHex, signatureSize = 32) {
  if (!path.startsWith('/')) throw new Error('path must start with "/"');
  const mac = createHmac('sha256', Buffer.from(keyHex, 'hex'));
  mac.update(Buffer.from(saltHex, 'hex'));
  mac.update(path);
  return `/${mac.digest().subarray(0, signatureSize).toString('base64url')}${path}`;
}

/** Percent-encodes a source for the "plain/" form, keeping "/" and ":" readable. */
export function plainSource(source) {
  return encodeURI(source).replace(/[?#@%]/g, (c) => (c === '%' ? c : encodeURIComponent(c)));
}

/**
 * A full signed URL: `${base}/<sig>/<options…>/plain/<source>[@ext]`.
 * options: ["rs:fill:300:200", "q:80"]; extension: "webp" | "avif" | … or omitted (negotiated from Accept).
 */
export function imgproxyUrl({ base = '/img', key, salt, options = [], source, extension, signatureSize }) {
  const path = `/${[...options, 'plain', plainSource(source)].join('/')}${extension ? `@${extension}` : ''}`;
  return `${base.replace(/\/$/, '')}${signImgproxyPath(path, key, salt, signatureSize)}`;
}

/**
 * Mints a share link with the caller's own Sluice token. request: {store, key | prefix,
 * expiresIn?, maxDownloads?, boundTo?}. Resolves to {id, token, url?, expiresAt}.
 */
export async function createShareLink(sluiceBase, token, request, prefix = '/files') {
  const res = await fetch(`${sluiceBase}${prefix}/_share`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(request),
  });
  if (res.status !== 201) throw new Error(`share link refused: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Revokes a link by id (its creator or an admin). Resolves to true when revoked (204). */
export async function revokeShareLink(sluiceBase, token, id, prefix = '/files') {
  const res = await fetch(`${sluiceBase}${prefix}/_share/links/${encodeURIComponent(id)}`, {
    method: 'DELETE',
    headers: { Authorization: `Bearer ${token}` },
  });
  return res.status === 204;
}
