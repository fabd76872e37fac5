// Directories under an fs store root, opened (and created) one segment at a time so a write can
// never land outside the root: every segment must be a real directory, never a symlink, and a
// missing one is created with a plain (non-recursive) mkdir inside the directory already held.
//
// Node has no mkdirat/linkat, but on Linux /proc/self/fd/<fd> names the very directory an open
// handle holds (not whatever its path means now), so "<fd path>/<name>" behaves like *at() calls:
// swapping a segment for a symlink after it was opened changes nothing. Without /proc the walk
// falls back to plain paths plus a re-check after each step (see FALLBACK below).
import { constants, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';

export type PathProblem = 'symlink' | 'not-a-directory' | 'name-too-long';

/** A segment of the path cannot be used; callers decide what the client sees. */
export class PathRefused extends Error {
  constructor(
    readonly problem: PathProblem,
    /** The segments up to and including the refused one, relative to the root. */
    readonly at: string,
  ) {
    super(`${problem}: ${at}`);
    this.name = 'PathRefused';
  }
}

export interface ConfinedDir {
  /** Prefix for names inside this directory: `${dir.path}/${name}` never leaves it. */
  readonly path: string;
  /** fsync of the directory itself: makes a rename or link into it durable. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** 'paths' forces the FALLBACK walk (tests run it too; production always uses 'auto'). */
export type Anchoring = 'auto' | 'paths';

const DIR_FLAGS = constants.O_RDONLY | (constants.O_DIRECTORY ?? 0) | (constants.O_NOFOLLOW ?? 0);
const FD_DIR = '/proc/self/fd';

let fdPaths: Promise<boolean> | undefined;

/**
 * Opens `segments` under `realRoot` (which must already be a real path), creating missing
 * directories when `create` is set. Throws PathRefused for a symlink, a file where a directory
 * should be, or a too-long name; other errors (EACCES, EIO…) pass through.
 */
export async function openConfinedDir(realRoot: string, segments: readonly string[], create: boolean, anchoring: Anchoring = 'auto'): Promise<ConfinedDir> {
  let handle = await fsp.open(realRoot, DIR_FLAGS);
  const anchored = anchoring === 'auto' && (await usesFdPaths(handle));
  let realPath = realRoot;
  try {
    for (const [index, segment] of segments.entries()) {
      const at = segments.slice(0, index + 1).join('/');
      const via = anchored ? `${FD_DIR}/${handle.fd}/${segment}` : path.join(realPath, segment);
      const child = await openChild(via, create, at);
      await handle.close();
      handle = child;
      realPath = path.join(realPath, segment);
      if (!anchored) await recheck(realPath, at);
    }
  } catch (error) {
    await handle.close();
    throw error;
  }
  const held = handle;
  return { path: anchored ? `${FD_DIR}/${held.fd}` : realPath, sync: () => held.sync(), close: () => held.close() };
}

/** Opens one directory (never through a symlink), creating it first when missing and allowed. */
async function openChild(via: string, create: boolean, at: string): Promise<FileHandle> {
  try {
    return await fsp.open(via, DIR_FLAGS);
  } catch (error) {
    if (codeOf(error) !== 'ENOENT' || !create) throw await refusal(error, via, at);
  }
  try {
    // Plain mkdir: it never follows a symlink in the last segment, and EEXIST (a concurrent
    // upload made it) is fine, the open below checks what is there now.
    await fsp.mkdir(via);
  } catch (error) {
    if (codeOf(error) !== 'EEXIST') throw await refusal(error, via, at);
  }
  try {
    return await fsp.open(via, DIR_FLAGS);
  } catch (error) {
    throw await refusal(error, via, at);
  }
}

/**
 * FALLBACK (no /proc): paths are resolved again at each step, so a directory swapped for a symlink
 * between two steps is only noticed afterwards; the walk then stops, but a mkdir may already have
 * happened at the symlink's target. This check at least refuses to go on through it.
 */
async function recheck(realPath: string, at: string): Promise<void> {
  if ((await fsp.realpath(realPath)) !== realPath) throw new PathRefused('symlink', at);
}

/** True when /proc/self/fd/<fd> is the directory the handle holds (Linux with /proc mounted). */
function usesFdPaths(handle: FileHandle): Promise<boolean> {
  fdPaths ??= (async () => {
    try {
      const [viaProc, held] = await Promise.all([fsp.stat(`${FD_DIR}/${handle.fd}`), handle.stat()]);
      return viaProc.dev === held.dev && viaProc.ino === held.ino;
    } catch {
      return false;
    }
  })();
  return fdPaths;
}

async function refusal(error: unknown, via: string, at: string): Promise<unknown> {
  let problem = pathProblemOf(error);
  // Linux answers O_DIRECTORY|O_NOFOLLOW on a symlink with ENOTDIR: lstat tells the two apart.
  if (problem === 'not-a-directory' && (await fsp.lstat(via).catch(() => null))?.isSymbolicLink() === true) problem = 'symlink';
  return problem === null ? error : new PathRefused(problem, at);
}

/** The errno codes that mean "this path cannot be a directory of the store". */
export function pathProblemOf(error: unknown): PathProblem | null {
  switch (codeOf(error)) {
    case 'ELOOP': // O_NOFOLLOW on a symlink (Linux)
    case 'EMLINK': // O_NOFOLLOW on a symlink (FreeBSD)
      return 'symlink';
    case 'ENOTDIR':
      return 'not-a-directory';
    case 'ENAMETOOLONG':
      return 'name-too-long';
    default:
      return null;
  }
}

export function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
