// The demo's "database": two users and the files the host app knows about. Seeding writes the
// same files into the store's directory (at dev/test time); the demo never serves their bytes.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

export interface DemoUser {
  readonly name: string;
  /** Demo only: plain passwords in code. A real host app has its own login. */
  readonly password: string;
  readonly groups: readonly string[];
}

export const USERS: readonly DemoUser[] = [
  { name: 'alice', password: 'alice-demo', groups: ['staff'] },
  { name: 'bob', password: 'bob-demo', groups: [] },
];

/** A file with a non-ASCII name: Content-Disposition must carry it intact (RFC 5987). */
export const UNICODE_NAME = 'Überblick – café 2026.txt';
export const PHOTOS = ['harbour.jpg', 'meadow.jpg'] as const;
export const STAFF_GALLERY = ['staff/gallery/dunes.jpg', 'staff/gallery/glacier.jpg', 'staff/gallery/orchard.jpg'] as const;
export const CLIP = 'clip.webm';
/** The video's poster: a still of its first frame (seeded next to it, not listed as a file). */
export const POSTER = 'clip-poster.jpg';
/** What each user finds in the encrypted vault at start: the video (seek works), a photo, a note. */
export const VAULT_FILES = [CLIP, 'harbour.jpg', 'passwords-not-really.txt'] as const;

/** Keys (in the demo store) of a user's own files. */
export function ownFiles(user: string): string[] {
  return [`users/${user}/${UNICODE_NAME}`, `users/${user}/notes.txt`, ...PHOTOS.map((p) => `users/${user}/${p}`), `users/${user}/${CLIP}`];
}

export function unicodeFileText(user: string): string {
  return `Überblick für ${user}: Grüße aus dem Sluice-Demo ☕\n`;
}

const HUES: Readonly<Record<string, [string, string]>> = {
  harbour: ['#1d3557', '#a8dadc'],
  meadow: ['#2d6a4f', '#d8f3dc'],
  dunes: ['#bc6c25', '#fefae0'],
  glacier: ['#03045e', '#caf0f8'],
  orchard: ['#6a040f', '#ffba08'],
};

/** A photo-like JPEG: gradient, a sun, hills, and the image's name. */
async function photo(name: string): Promise<Buffer> {
  const [dark, light] = HUES[name] ?? ['#333', '#ccc'];
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="800">
    <defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="${light}"/><stop offset="1" stop-color="${dark}"/></linearGradient></defs>
    <rect width="100%" height="100%" fill="url(#g)"/><circle cx="900" cy="220" r="110" fill="#ffd166"/>
    <path d="M0 620 Q300 420 600 600 T1200 560 V800 H0 Z" fill="${dark}"/>
    <text x="60" y="140" font-family="sans-serif" font-size="96" fill="#fff">${name}</text></svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 85 }).toBuffer();
}

/** The clip's first frame (examples/demo/clip/encode-page.js draws it), larger, with a play mark. */
async function poster(): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="360">
    <rect width="640" height="360" fill="hsl(0 60% 35%)"/><rect x="0" y="140" width="80" height="80" fill="#fff"/>
    <rect x="20" y="20" width="20" height="20" fill="#fff"/>
    <circle cx="320" cy="180" r="54" fill="rgba(0,0,0,.45)"/><path d="M300 150 L352 180 L300 210 Z" fill="#fff"/></svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 80 }).toBuffer();
}

export function vaultFileContent(user: string, name: string): Promise<Buffer> {
  if (name === CLIP) return readFile(CLIP_ASSET);
  if (name.endsWith('.jpg')) return photo(name.replace(/\.jpg$/, ''));
  return Promise.resolve(Buffer.from(`Encrypted at rest, decrypted by the worker for ${user} only.\n`));
}

const CLIP_ASSET = path.join(path.dirname(fileURLToPath(import.meta.url)), 'assets', CLIP);

/** Writes a file unless it exists: a restarted `sluice dev --demo` keeps what is there. */
async function put(root: string, key: string, content: () => Promise<Buffer | string>): Promise<void> {
  const file = path.join(root, ...key.split('/'));
  if (existsSync(file)) return;
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, await content());
}

/** Writes the files of the catalogue that are missing under `root` (the demo fs store). */
export async function seedDemoStore(root: string): Promise<void> {
  for (const user of USERS) {
    await put(root, `users/${user.name}/${UNICODE_NAME}`, async () => unicodeFileText(user.name));
    await put(root, `users/${user.name}/notes.txt`, async () => `Private notes of ${user.name}.\n`);
    for (const p of PHOTOS) await put(root, `users/${user.name}/${p}`, () => photo(p.replace(/\.jpg$/, '')));
    await put(root, `users/${user.name}/${CLIP}`, () => readFile(CLIP_ASSET));
    await put(root, `users/${user.name}/${POSTER}`, poster);
  }
  for (const key of STAFF_GALLERY) await put(root, key, () => photo(path.basename(key, '.jpg')));
}
