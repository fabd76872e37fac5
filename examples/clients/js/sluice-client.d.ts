export interface ShareRequest {
  store: string;
  key?: string;
  prefix?: string;
  expiresIn?: number;
  maxDownloads?: number;
  boundTo?: string;
}

export interface ShareLink {
  id: string;
  token: string;
  url?: string;
  expiresAt: string;
}

export interface ImgproxyUrlOptions {
  base?: string;
  key: string;
  salt: string;
  options?: string[];
  source: string;
  extension?: string;
  signatureSize?: number;
}

export function signImgproxyPath(path: string, keyHex: string, saltHex: string, signatureSize?: number): string;
export function plainSource(source: string): string;
export function imgproxyUrl(options: ImgproxyUrlOptions): string;
export function createShareLink(sluiceBase: string, token: string, request: ShareRequest, prefix?: string): Promise<ShareLink>;
export function revokeShareLink(sluiceBase: string, token: string, id: string, prefix?: string): Promise<boolean>;
