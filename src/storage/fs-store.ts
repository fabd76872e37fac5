// A directory on local disk. In nginx mode the app never touches the disk (nginx serves the file
// through an `alias` location); in stream mode every access is confined to the real root.
import { constants, promises as fsp, type Stats } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { FsStoreConfig } from '../config/schema.js';
import { ConfigError } from '../config/errors.js';
import { notFound, storageUnavailable } from '../errors.js';
import { encodeKeyPath, fsLocationPrefix } from '../contract/nginx-locations.js';
import { deleteFile, nginxBodyUpload, putFile } from './fs-writes.js';
import type { AccelTarget, ByteRange, CanonicalKey, ObjectHead, ObjectInfo, Store } from './types.js';

/** Read size of streamed reads: fewer syscalls and, for encrypted objects, fewer split chunks. */
const READ_CHUNK_BYTES = 256 * 1024;

/** Errors that mean "no such file here" for a lookup under the root. */
const MISSING_CODES = new Set(['ENOENT', 'ENOTDIR', 'ELOOP', 'ENAMETOOLONG']);

interface ResolvedFile {
  readonly realPath: string;
  readonly stats: Stats;
}

export function createFsStore(name: string, config: FsStoreConfig, internalPrefix: string): Store {
  const root = path.resolve(config.root);
  const locationPrefix = fsLocationPrefix(internalPrefix, name);

  return {
    name,
    kind: 'fs',
    encrypted: config.encrypted,
    delivery: config.delivery,
    cacheControl: config.cacheControl,

    async accelTarget(key: CanonicalKey): Promise<AccelTarget> {
      return { location: locationPrefix + encodeKeyPath(key.segments), headers: {} };
    },

    async presignedUrl(): Promise<string> {
      throw new Error(`fs store "${name}" cannot presign URLs (redirect delivery is only for s3 stores)`);
    },

    async stat(key: CanonicalKey): Promise<ObjectInfo | null> {
      const file = await resolveFile(root, key);
      if (file === null) return null;
      return { size: file.stats.size, etag: weakEtag(file.stats), lastModified: file.stats.mtime };
    },

    async read(key: CanonicalKey, range?: ByteRange): Promise<Readable> {
      const file = await resolveFile(root, key);
      if (file === null) throw notFound();
      // O_NOFOLLOW: the final component cannot have been swapped for a symlink since the check.
      const flags = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0);
      const handle = await fsp.open(file.realPath, flags).catch((error: unknown) => {
        throw isMissing(error) ? notFound() : error;
      });
      try {
        if (!(await handle.stat()).isFile()) throw notFound();
      } catch (error) {
        await handle.close();
        throw error;
      }
      // The stream owns the handle from here on and closes it when it ends or is destroyed.
      return handle.createReadStream({ highWaterMark: READ_CHUNK_BYTES, ...(range !== undefined && { start: range.start, end: range.end }) });
    },

    async head(key: CanonicalKey): Promise<ObjectHead | null> {
      const file = await resolveFile(root, key);
      if (file === null) return null;
      return { size: file.stats.size, etag: weakEtag(file.stats), lastModified: file.stats.mtime, metadata: {} };
    },

    put: (key, body, options) => putFile(root, key, body, options),

    delete: (key) => deleteFile(root, key),

    // Plaintext must never land in an encrypted store: only the worker writes there (put()).
    directUpload: config.encrypted ? { via: 'none' } : nginxBodyUpload(root),

    async check(): Promise<void> {
      const problem = await rootProblem(root);
      if (problem !== null) throw new Error(`fs store "${name}": root ${problem}`);
    },
  };
}

/** Start-up check: a missing or unreadable root is a configuration error, named by its key. */
export async function assertFsRoot(name: string, config: FsStoreConfig): Promise<void> {
  const problem = await rootProblem(path.resolve(config.root));
  if (problem !== null) throw ConfigError.forKey(`stores.${name}.root`, `"${config.root}" ${problem}`);
}

async function rootProblem(root: string): Promise<string | null> {
  let stats: Stats;
  try {
    stats = await fsp.stat(root);
  } catch {
    return 'does not exist';
  }
  if (!stats.isDirectory()) return 'is not a directory';
  try {
    await fsp.access(root, constants.R_OK | constants.X_OK);
  } catch {
    return 'is not readable';
  }
  return null;
}

/**
 * The file for a key, or null when it does not exist, is not a regular file, or its real path
 * (all symlinks resolved) lies outside the real root: links out of the store never leak.
 */
async function resolveFile(root: string, key: CanonicalKey): Promise<ResolvedFile | null> {
  let realRoot: string;
  try {
    realRoot = await fsp.realpath(root);
  } catch {
    throw storageUnavailable('storage unavailable');
  }
  let realPath: string;
  let stats: Stats;
  try {
    realPath = await fsp.realpath(path.join(root, ...key.segments));
    stats = await fsp.stat(realPath);
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
  if (!isInside(realRoot, realPath) || !stats.isFile()) return null;
  return { realPath, stats };
}

function isInside(parent: string, child: string): boolean {
  const relative = path.relative(parent, child);
  return relative !== '' && relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}

function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && MISSING_CODES.has(code);
}

/** Weak, like nginx's: size and mtime say "same file" but not "byte-identical". */
function weakEtag(stats: Stats): string {
  return `W/"${Math.floor(stats.mtimeMs).toString(16)}-${stats.size.toString(16)}"`;
}
