// Which metadata survives. Results are always re-encoded without the source's metadata (no GPS
// position leaks from a phone photo); text tags are copied back on request: the copyright by
// default (imgproxy's keep_copyright), all IFD0 text tags with strip_metadata:0. The EXIF
// orientation never survives: it has been applied to the pixels.
import type { TransformPlan } from '../plan.js';

/** IFD0 ASCII tags, by tag number, under the names sharp's withExif() takes. */
const TEXT_TAGS: ReadonlyMap<number, string> = new Map([
  [0x010e, 'ImageDescription'],
  [0x010f, 'Make'],
  [0x0110, 'Model'],
  [0x0131, 'Software'],
  [0x0132, 'DateTime'],
  [0x013b, 'Artist'],
  [0x8298, 'Copyright'],
]);

const ASCII = 2;

/** The IFD0 text tags of a raw EXIF block (as sharp's metadata() returns it); {} when unreadable. */
export function exifTextTags(exif: Buffer | null): Record<string, string> {
  if (exif === null) return {};
  const tiff = exif.subarray(0, 6).toString('latin1') === 'Exif\0\0' ? exif.subarray(6) : exif;
  if (tiff.length < 8) return {};
  const order = tiff.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return {};
  const little = order === 'II';
  const u16 = (at: number): number => (little ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number): number => (little ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));

  const tags: Record<string, string> = {};
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return tags;
  for (let i = 0, count = u16(ifd); i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > tiff.length) break;
    const name = TEXT_TAGS.get(u16(entry));
    const length = u32(entry + 4);
    if (name === undefined || u16(entry + 2) !== ASCII) continue;
    const at = length <= 4 ? entry + 8 : u32(entry + 8);
    if (at + length > tiff.length) continue;
    // NUL ends a value; Copyright may hold two (photographer, editor)
    const value = tiff
      .toString('utf8', at, at + length)
      .split('\0')
      .filter((part) => part.trim() !== '')
      .join('; ');
    if (value !== '') tags[name] = value;
  }
  return tags;
}

/** The EXIF tags to write into the result, or null for none. */
export function keptExif(exif: Buffer | null, plan: TransformPlan): Record<string, string> | null {
  if (!plan.stripMetadata && exif !== null) {
    const tags = exifTextTags(exif);
    return Object.keys(tags).length > 0 ? tags : null;
  }
  if (!plan.keepCopyright) return null;
  const copyright = exifTextTags(exif).Copyright;
  return copyright === undefined ? null : { Copyright: copyright };
}
