// The files of an fs store, as S3 keys: relative paths with "/" separators. Symlinks are
// followed only while they stay inside the root; one that leaves it is reported, never copied.
import { promises as fsp } from 'node:fs';
import path from 'node:path';

export interface SourceFile {
  readonly key: string;
  /** The file to read: the real path (symlinks resolved inside the root). */
  readonly path: string;
  /** The directory entry itself: what --delete-source removes (a link, never its target). */
  readonly entryPath: string;
  readonly size: number;
  readonly mtimeMs: number;
}

export interface Refused {
  readonly key: string;
  readonly reason: string;
}

export interface SourceListing {
  /** The store root with symlinks resolved: every entryPath lies below it. */
  readonly root: string;
  readonly files: SourceFile[];
  readonly refused: Refused[];
}

export async function listSource(root: string): Promise<SourceListing> {
  const realRoot = await fsp.realpath(root);
  const files: SourceFile[] = [];
  const refused: Refused[] = [];
  const walk = async (dir: string, prefix: string): Promise<void> => {
    const entries = await fsp.readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const key = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        await walk(full, key);
      } else if (entry.isFile()) {
        const stats = await fsp.stat(full);
        files.push({ key, path: full, entryPath: full, size: stats.size, mtimeMs: stats.mtimeMs });
      } else if (entry.isSymbolicLink()) {
        const target = await fsp.realpath(full).catch(() => null);
        if (target === null) refused.push({ key, reason: 'dangling symlink' });
        else if (!isInside(realRoot, target)) refused.push({ key, reason: 'symlink leaves the store root' });
        else {
          const stats = await fsp.stat(target);
          if (stats.isFile()) files.push({ key, path: target, entryPath: full, size: stats.size, mtimeMs: stats.mtimeMs });
          else refused.push({ key, reason: 'symlink to a directory (not followed)' });
        }
      } else {
        refused.push({ key, reason: 'not a regular file' });
      }
    }
  };
  await walk(realRoot, '');
  return { root: realRoot, files, refused };
}

function isInside(parent: string, child: string): boolean {
  const relative = path.relative(parent, child);
  return relative !== '' && !relative.startsWith(`..${path.sep}`) && relative !== '..' && !path.isAbsolute(relative);
}
