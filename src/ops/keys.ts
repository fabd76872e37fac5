// Signing-key rotation for share links and transform URLs. The new key goes first (it signs);
// the old ones stay (they still verify links and URLs already handed out) until the operator
// drops them. Secrets are only ever printed by `rotate`; listings show fingerprints.
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { isSeq, parseDocument, stringify } from 'yaml';
import type { SluiceConfig } from '../config/schema.js';

export type KeyKind = 'share' | 'transform';

export interface KeyListing {
  readonly kind: KeyKind | 'auth';
  readonly id: string;
  readonly fingerprint: string;
  readonly signs: boolean;
}

export interface Rotation {
  /** Config path of the list, e.g. ["sharing", "keys"]. */
  readonly lists: { readonly path: readonly string[]; readonly added: unknown; readonly updated: readonly unknown[] }[];
}

/** First 12 hex digits of SHA-256: enough to tell keys apart, useless for recovering them. */
export function fingerprint(secret: string): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 12);
}

export function listKeys(config: SluiceConfig): KeyListing[] {
  const listing: KeyListing[] = [];
  config.auth.keys.forEach((key, index) => {
    const material = key.secret ?? key.publicKey ?? key.jwksUrl ?? '';
    listing.push({ kind: 'auth', id: key.kid ?? `#${index}`, fingerprint: key.jwksUrl ?? fingerprint(material), signs: false });
  });
  config.sharing.keys.forEach((key, index) => {
    listing.push({ kind: 'share', id: key.kid, fingerprint: fingerprint(key.secret), signs: index === 0 });
  });
  config.transform.keys.forEach((key, index) => {
    listing.push({
      kind: 'transform',
      id: `#${index}`,
      fingerprint: `${fingerprint(key)}/${fingerprint(config.transform.salts[index] ?? '')}`,
      signs: index === 0,
    });
  });
  return listing;
}

export function rotate(config: SluiceConfig, kind: KeyKind, kid: string | undefined, now: Date): Rotation {
  if (kind === 'share') {
    const id = kid ?? `k${now.toISOString().slice(0, 19).replace(/[-:T]/g, '')}`;
    if (config.sharing.keys.some((k) => k.kid === id)) throw new Error(`kid "${id}" is already in sharing.keys`);
    const added = { kid: id, secret: randomBytes(32).toString('base64url') };
    return { lists: [{ path: ['sharing', 'keys'], added, updated: [added, ...config.sharing.keys] }] };
  }
  const key = randomBytes(32).toString('hex');
  const salt = randomBytes(32).toString('hex');
  return {
    lists: [
      { path: ['transform', 'keys'], added: key, updated: [key, ...config.transform.keys] },
      { path: ['transform', 'salts'], added: salt, updated: [salt, ...config.transform.salts] },
    ],
  };
}

/** The rotated lists as YAML, ready to paste into the config file. */
export function rotationYaml(rotation: Rotation): string {
  const tree: Record<string, Record<string, unknown>> = {};
  for (const list of rotation.lists) {
    const [section = '', field = ''] = list.path;
    tree[section] = { ...tree[section], [field]: list.updated };
  }
  return stringify(tree);
}

/**
 * Puts each new entry first in the config file's list, editing the YAML document in place so
 * the operator's comments, order and formatting survive. A comma-separated string list
 * (imgproxy style) becomes a YAML list.
 */
export async function writeRotation(file: string, rotation: Rotation): Promise<void> {
  const doc = parseDocument(await fsp.readFile(file, 'utf8'));
  if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message ?? 'not valid YAML'}`);
  for (const list of rotation.lists) {
    const node = doc.getIn(list.path, true);
    if (isSeq(node)) node.items.unshift(doc.createNode(list.added));
    else doc.setIn(list.path, doc.createNode(list.updated));
  }
  const temporary = `${file}.sluice-tmp`;
  await fsp.writeFile(temporary, doc.toString(), { mode: (await fsp.stat(file)).mode });
  await fsp.rename(temporary, file);
}
