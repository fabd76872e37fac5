// The host app's own "database" (in memory): which files each user has (name, size, type) and
// the share links they minted. Sluice keeps no list of links per user — the host app does, as a
// real one would next to its users. Sizes come from a HEAD through Sluice, never from the disk.
import { lookup } from 'mime-types';

export interface FileRecord {
  readonly store: string;
  readonly key: string;
  readonly name: string;
  /** Bytes, from Sluice's Content-Length (null until known). */
  size: number | null;
  readonly type: string;
}

export interface LinkRecord {
  readonly id: string;
  readonly store: string;
  readonly key: string;
  readonly name: string;
  /** The gateway URL with `?share=` (path only). */
  readonly gatewayPath: string;
  /** The demo's landing page for the link (path only). */
  readonly landingPath: string;
  readonly expiresAt: string;
  readonly maxDownloads: number | null;
  readonly createdAt: string;
}

export const nameOf = (key: string): string => key.split('/').pop() as string;
export const typeOf = (name: string): string => lookup(name) || 'application/octet-stream';

/** Types a browser shows inline safely (Sluice forces HTML/SVG/XML/scripts to attachments anyway). */
export function viewable(type: string): boolean {
  return /^(image\/(jpeg|png|gif|webp|avif)|video\/|audio\/|text\/plain$|application\/pdf$)/.test(type);
}
export const isImage = (type: string): boolean => /^image\/(jpeg|png|gif|webp|avif|tiff)$/.test(type);

export class Library {
  readonly #files = new Map<string, FileRecord[]>();
  readonly #links = new Map<string, LinkRecord[]>();

  files(user: string): FileRecord[] {
    let list = this.#files.get(user);
    if (list === undefined) this.#files.set(user, (list = []));
    return list;
  }

  /** Adds (or returns the existing) record of a key; uploads call it once Sluice confirmed the file. */
  add(user: string, store: string, key: string, size: number | null = null): FileRecord {
    const list = this.files(user);
    const existing = list.find((f) => f.store === store && f.key === key);
    if (existing !== undefined) return existing;
    const name = nameOf(key);
    const record: FileRecord = { store, key, name, size, type: typeOf(name) };
    list.push(record);
    return record;
  }

  find(user: string, store: string, key: string): FileRecord | undefined {
    return this.files(user).find((f) => f.store === store && f.key === key);
  }

  addLink(user: string, link: LinkRecord): void {
    const list = this.#links.get(user) ?? [];
    list.unshift(link);
    this.#links.set(user, list);
  }

  /** Links not revoked and not expired, newest first. */
  activeLinks(user: string, now = Date.now()): LinkRecord[] {
    return (this.#links.get(user) ?? []).filter((l) => Date.parse(l.expiresAt) > now);
  }

  link(user: string, id: string): LinkRecord | undefined {
    return (this.#links.get(user) ?? []).find((l) => l.id === id);
  }

  removeLink(user: string, id: string): LinkRecord | undefined {
    const list = this.#links.get(user) ?? [];
    const index = list.findIndex((l) => l.id === id);
    return index < 0 ? undefined : list.splice(index, 1)[0];
  }
}
