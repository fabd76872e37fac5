// What the client sees when a key cannot be written to an fs store: a short 4xx reason for what
// the key itself causes, never a 500 (which is left for disk and permission faults).
import { PublicError } from '../errors.js';
import { codeOf, PathRefused, pathProblemOf, type PathProblem } from './confined-dir.js';

/**
 * symlink → 403: the operator put it there, the client can neither see nor fix it, and writing
 * through it is the confinement refusal this is (like a key outside the store).
 * not-a-directory → 409: the key conflicts with what the store holds (an existing file).
 * name-too-long → 400: a segment over the filesystem's name limit is a key this store cannot
 * hold; 414 would wrongly say the whole URL is too long.
 */
const PUBLIC: Readonly<Record<PathProblem, () => PublicError>> = {
  symlink: () => new PublicError(403, 'key path crosses a symlink'),
  'not-a-directory': () => new PublicError(409, 'a parent of this key is a file'),
  'name-too-long': () => new PublicError(400, 'key segment too long for this store'),
};

const DIRECTORY_CODES = new Set(['EISDIR', 'ENOTEMPTY', 'EPERM']);

/** A PathRefused from the directory walk → its public answer; anything else is returned as is. */
export function publicWriteError(error: unknown): unknown {
  return error instanceof PathRefused ? PUBLIC[error.problem]() : error;
}

/** An error from creating the final name (link/open) inside a held parent directory. */
export function publicLeafError(error: unknown, existingIsDirectory: boolean): unknown {
  if (codeOf(error) === 'EEXIST') return new PublicError(409, existingIsDirectory ? 'key is a directory of other keys' : 'key already written');
  // rename() and unlink() of a name that is a directory.
  if (existingIsDirectory && DIRECTORY_CODES.has(codeOf(error) ?? '')) return new PublicError(409, 'key is a directory of other keys');
  const problem = pathProblemOf(error);
  return problem === null ? error : PUBLIC[problem]();
}
