// Minting share links offline with a sharing key (what `sluice sign share` does), for scripts
// and host apps that hold the key; the running gateway verifies them like API-minted links.
import { createLinkKeyRing, type LinkKey } from '../sharing/link-token.js';
import { linkScope, parseMintRequest } from '../sharing/mint.js';

export interface ShareLinkOptions {
  /** The signing key: the first entry of sharing.keys. */
  readonly key: LinkKey;
  readonly store: string;
  /** Exactly one of objectKey (one file) and prefix (a folder), decoded ("reports/q1 2026.pdf"). */
  readonly objectKey?: string;
  readonly prefix?: string;
  readonly expiresInSeconds: number;
  /** Longest lifetime accepted (sharing.maxExpiresInSeconds), default 7 days. */
  readonly maxExpiresInSeconds?: number;
  /** Counted links need redisUrl on the gateway. */
  readonly maxDownloads?: number;
  readonly boundTo?: string;
  /** Download route prefix (config prefix), default "/files"; may include an origin. */
  readonly routePrefix?: string;
}

export interface ShareLink {
  readonly url: string;
  readonly token: string;
  readonly id: string;
  readonly expiresAt: number;
}

export async function shareLink(options: ShareLinkOptions): Promise<ShareLink> {
  const request = parseMintRequest(
    {
      store: options.store,
      ...(options.objectKey !== undefined && { key: options.objectKey }),
      ...(options.prefix !== undefined && { prefix: options.prefix }),
      expiresIn: options.expiresInSeconds,
      ...(options.maxDownloads !== undefined && { maxDownloads: options.maxDownloads }),
      ...(options.boundTo !== undefined && { boundTo: options.boundTo }),
    },
    options.maxExpiresInSeconds ?? 7 * 24 * 3600,
  );
  const scope = linkScope(request);
  const { token, claims } = await createLinkKeyRing([options.key]).sign({
    store: scope.store,
    ...(scope.key !== undefined && { key: scope.key.value }),
    ...(scope.prefix !== undefined && { prefix: scope.prefix.value }),
    expiresAt: Math.floor(Date.now() / 1000) + request.expiresIn,
    ...(request.maxDownloads !== undefined && { maxDownloads: request.maxDownloads }),
    ...(request.boundTo !== undefined && { boundTo: request.boundTo }),
  });
  const keyPath = (scope.key ?? scope.prefix)?.segments.map(encodeURIComponent).join('/') ?? '';
  // A prefix link works for any key below the folder: the path shows the folder to append to.
  const folderSlash = scope.prefix === undefined ? '' : '/';
  const url = `${options.routePrefix ?? '/files'}/${scope.store}/${keyPath}${folderSlash}?share=${token}`;
  return { url, token, id: claims.id, expiresAt: claims.expiresAt };
}
