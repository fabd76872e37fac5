// Response headers for a download: type, disposition, caching and the guards that keep
// user-uploaded active content (HTML, SVG, XML) from running on this origin.
import contentDisposition from 'content-disposition';
import mime from 'mime-types';

export interface DownloadHeaderOptions {
  readonly fileName: string;
  /** The client asked for `?download=1`. */
  readonly attachment: boolean;
  readonly cacheControl: string;
}

/**
 * Types a browser would execute or render as a document on this origin: never inline, always
 * sandboxed. Families are matched in isActiveContent (any XML, message/*, multipart/*).
 * Not here, on purpose: application/pdf (browsers render it in their own isolated viewer, where
 * its scripts cannot reach this origin's DOM or cookies, and a sandbox CSP blanks Chrome's
 * viewer), and text/plain, CSS, JSON, images, audio, video (inert as documents with nosniff).
 */
const ACTIVE_TYPES = new Set([
  'text/html',
  'application/xhtml+xml',
  'image/svg+xml',
  'text/xml',
  'application/xml',
  'text/xsl',
  'application/xslt+xml',
  'text/mathml',
  'text/vnd.wap.wml',
  'text/x-component',
  'text/javascript',
  'application/javascript',
  'application/x-javascript',
  'application/ecmascript',
  'text/ecmascript',
  'application/x-shockwave-flash',
  'application/wasm',
]);

/** Families rendered as documents: MHTML archives (message/rfc822, multipart/related), mixed-replace streams, every XML. */
const ACTIVE_FAMILIES: readonly RegExp[] = [/^message\//, /^multipart\//, /^[a-z]+\/(?:[^;]*\+)?xml(?:-[a-z-]+)?$/];

export const SANDBOX_CSP = "default-src 'none'; sandbox";

/**
 * Content type from the file name. Text gets `charset=utf-8` (what nearly all text files are
 * today; without it browsers guess and garble non-ASCII names and contents); binary types get
 * no charset, which nginx would otherwise carry over onto the storage's type.
 */
export function contentTypeFor(fileName: string): string {
  const type = mime.lookup(fileName) || 'application/octet-stream';
  return type.startsWith('text/') ? `${type}; charset=utf-8` : type;
}

/** `contentType` without parameters, e.g. "text/html". */
export function isActiveContent(contentType: string): boolean {
  const type = contentType.trim().toLowerCase();
  return ACTIVE_TYPES.has(type) || ACTIVE_FAMILIES.some((family) => family.test(type));
}

/**
 * Quotes, backslashes, control characters, ";" and "," are replaced before formatting: they
 * are what reflected-file-download and header-splitting tricks are made of.
 */
export function safeFileName(name: string): string {
  const cleaned = name.replace(/[\u0000-\u001f\u007f-\u009f"\\;,]/g, '_').trim();
  return cleaned.length > 0 ? cleaned : 'download';
}

/** Pure-ASCII name for old clients: accents dropped ("ü" → "u"), anything else non-ASCII → "_". */
export function asciiFallback(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]/g, '_');
}

export function downloadHeaders(options: DownloadHeaderOptions): Record<string, string> {
  const contentType = contentTypeFor(options.fileName);
  const active = isActiveContent(contentType.split(';', 1)[0] as string);
  const headers: Record<string, string> = {
    'Content-Type': contentType,
    // RFC 6266 with an ASCII fallback plus RFC 5987 filename* for non-ASCII names.
    'Content-Disposition': contentDisposition(safeFileName(options.fileName), {
      type: options.attachment || active ? 'attachment' : 'inline',
      fallback: asciiFallback(safeFileName(options.fileName)),
    }),
    'Cache-Control': options.cacheControl,
    'X-Content-Type-Options': 'nosniff',
  };
  if (active) headers['Content-Security-Policy'] = SANDBOX_CSP;
  return headers;
}
