// What the client is told when a source cannot be decoded. libvips' messages stay in the cause
// (for the log); the public reasons are short and stable.
import { PublicError } from '../../errors.js';
import { isVipsTimeout, renderTimedOut } from './deadline.js';

export const unsupportedFormat = (cause?: unknown): PublicError => new PublicError(422, 'unsupported image format', {}, cause);

/** A HEIC whose HEVC codec this libvips was built without (patents): recognized, not decodable. */
export const hevcUnsupported = (cause?: unknown): PublicError => new PublicError(415, 'unsupported image format (HEVC)', {}, cause);

/** Refused rather than sanitized: SVG can carry scripts and external references. */
export const svgRefused = (): PublicError => new PublicError(422, 'unsupported image format (SVG)');

export const tooLarge = (): PublicError => new PublicError(422, 'source image too large');

export const tooManyFrames = (): PublicError => new PublicError(422, 'source image has too many frames');

/** Maps a libvips failure while reading a source to the public error. */
export function decodeError(error: unknown): PublicError {
  if (error instanceof PublicError) return error;
  if (isVipsTimeout(error)) return renderTimedOut(error);
  const message = error instanceof Error ? error.message : String(error);
  if (/compression format has not been built in/i.test(message)) return hevcUnsupported(error);
  if (/exceeds pixel limit/i.test(message)) return tooLarge();
  return unsupportedFormat(error);
}

/** Runs work that reads the source, turning libvips failures (thrown or rejected) into PublicErrors. */
export async function decoding<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw decodeError(error);
  }
}
