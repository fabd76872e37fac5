// imgproxy-compatible URL signing for host apps (Node): the same signatures Sluice verifies.
import { signPath } from '../transform/signature.js';

export interface TransformSigning {
  /** Hex key and salt, as in transform.keys / transform.salts. */
  readonly keyHex: string;
  readonly saltHex: string;
  /** Bytes of HMAC kept in the signature (transform.signatureSize), default 32. */
  readonly signatureSize?: number;
  /** Route prefix (transform.imgproxyPrefix), default "/img"; may include an origin. */
  readonly prefix?: string;
}

export interface TransformUrlOptions extends TransformSigning {
  /** imgproxy options, e.g. ["rs:fit:400:300", "q:80"]. */
  readonly options: readonly string[];
  /** `local:///path/in/store.jpg` or `s3://bucket/key`. */
  readonly source: string;
  /** Output format extension (webp, avif, jpg …); omitted = negotiated or the source's. */
  readonly extension?: string;
  /** base64 (default: safe for any source) or plain (readable; percent-encoded). */
  readonly encoding?: 'base64' | 'plain';
}

/** Signs an already-built imgproxy path ("/rs:fit:300:300/plain/local:///a.jpg@webp"). */
export function signTransformPath(path: string, signing: TransformSigning): string {
  if (!path.startsWith('/')) throw new Error('the path must start with "/"');
  const signature = signPath(path, signing.keyHex, signing.saltHex, signing.signatureSize ?? 32);
  return `${signing.prefix ?? '/img'}/${signature}${path}`;
}

export function signTransformUrl(options: TransformUrlOptions): string {
  const extension = options.extension === undefined ? '' : options.extension;
  const source =
    options.encoding === 'plain'
      ? `plain/${encodeURI(options.source).replace(/[?#@]/g, encodeURIComponent)}${extension && `@${extension}`}`
      : `${Buffer.from(options.source).toString('base64url')}${extension && `.${extension}`}`;
  const path = `/${[...options.options, source].join('/')}`;
  return signTransformPath(path, options);
}
