// The migration manifest: one JSON line per verified copy, appended as each copy is verified.
// A crash can only lose the line being written (a torn last line is ignored), never claim a
// copy that was not verified; a re-run skips every key whose source is unchanged since.
import { promises as fsp } from 'node:fs';

export interface ManifestEntry {
  readonly key: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly sha256: string;
  readonly bucket: string;
  /** ISO time of verification. */
  readonly verifiedAt: string;
}

export interface Manifest {
  /** The newest entry per key. */
  readonly entries: ReadonlyMap<string, ManifestEntry>;
  append(entry: ManifestEntry): Promise<void>;
  close(): Promise<void>;
}

export async function readManifest(file: string): Promise<Map<string, ManifestEntry>> {
  const entries = new Map<string, ManifestEntry>();
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return entries;
    throw error;
  }
  for (const line of text.split('\n')) {
    const entry = parseLine(line);
    if (entry !== null) entries.set(entry.key, entry);
  }
  return entries;
}

export async function openManifest(file: string): Promise<Manifest> {
  const entries = await readManifest(file);
  const handle = await fsp.open(file, 'a');
  // Start on a fresh line in case the previous run died mid-write.
  if ((await handle.stat()).size > 0) await handle.write('\n');
  let writing: Promise<unknown> = Promise.resolve();
  return {
    entries,
    append(entry) {
      entries.set(entry.key, entry);
      // One write per line, in order: lines never interleave.
      writing = writing.then(() => handle.write(`${JSON.stringify(entry)}\n`));
      return writing.then(() => undefined);
    },
    async close() {
      await writing;
      await handle.sync();
      await handle.close();
    },
  };
}

function parseLine(line: string): ManifestEntry | null {
  if (line.trim() === '') return null;
  try {
    const value = JSON.parse(line) as Partial<ManifestEntry>;
    if (typeof value.key !== 'string' || typeof value.sha256 !== 'string' || typeof value.size !== 'number') return null;
    return value as ManifestEntry;
  } catch {
    return null;
  }
}
