// Keys that break naive gateways: each must come back byte-identical from every store.
export const TRICKY_KEYS: readonly string[] = [
  'plain.txt',
  'with space.txt',
  'ü ñ 日本.pdf'.normalize('NFC'),
  'nfd ü ñ.pdf'.normalize('NFD'),
  'plus+sign.txt',
  'percent%20literal.txt',
  'hash#tag.txt',
  'question?mark.txt',
  'amp&eq=.txt',
  'semi;colon.txt',
  "star*(paren)!quote'.txt",
  'tilde~,comma.txt',
  'dir/nested/deeper/file.bin',
  // ~900 bytes, split into segments the filesystem accepts (NAME_MAX is 255 bytes).
  ['long', 'a'.repeat(200), 'b'.repeat(200), 'ü'.repeat(120), 'c'.repeat(200), 'd'.repeat(50), 'end.txt'].join('/'),
];

/** Deterministic content per key, so a mix-up between two keys cannot go unnoticed. */
export function contentFor(key: string): Buffer {
  return Buffer.from(`content of ${key}\n${'x'.repeat(key.length % 97)}`, 'utf8');
}
