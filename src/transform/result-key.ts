// Names of rendered results outside one nginx: the shared result store (docs/transforms.md,
// "Shared result store") and the part of nginx's cache key that follows the worker's settings.
// Pure: the app computes both from its configuration, the worker checks the settings digest.
import { createHash } from 'node:crypto';
import type { Negotiated } from './format.js';
import { canonicalPlan, type OutputFormat, type TransformPlan } from './plan.js';

/** The worker settings that change a result's bytes (a subset of `worker.*`). */
export interface RenderSettings {
  readonly defaultQuality: Readonly<Partial<Record<OutputFormat, number>>>;
  readonly avifEffort: number;
  readonly watermark?: string;
  readonly watermarkData?: string;
  readonly limits: {
    readonly maxFrames: number;
    readonly maxResultDimension: number;
    readonly maxResultPixels: number;
    readonly formatMaxResultPixels: Readonly<Partial<Record<OutputFormat, number>>>;
  };
}

/**
 * A short digest of the settings that change a result's bytes: default qualities, AVIF effort,
 * the watermark (its path or inline data — not the file's contents: a new image goes under a
 * new path) and the limits that scale results down. Limits that only refuse are left out.
 */
export function renderSettingsDigest(settings: RenderSettings): string {
  const { limits } = settings;
  const material = [
    'v1',
    sortedEntries(settings.defaultQuality),
    settings.avifEffort,
    settings.watermark ?? null,
    settings.watermarkData === undefined ? null : createHash('sha256').update(settings.watermarkData).digest('hex'),
    [limits.maxFrames, limits.maxResultDimension, limits.maxResultPixels, sortedEntries(limits.formatMaxResultPixels)],
  ];
  return createHash('sha256').update(JSON.stringify(material)).digest('hex').slice(0, 16);
}

export interface ResultKeyInput {
  readonly plan: TransformPlan;
  /** The source: its store, canonical key and version (fs size+mtime, S3 ETag). */
  readonly store: string;
  readonly key: string;
  readonly version: string;
  /** The fixed format, or null when the worker decides it from the source and `negotiable`. */
  readonly format: OutputFormat | null;
  readonly negotiable?: readonly Negotiated[];
  /** renderSettingsDigest of the rendering worker's settings. */
  readonly settings: string;
}

/**
 * Hex digest naming a result's bytes: the pixel-relevant plan, the source and its version, the
 * format (or the Accept class it is negotiated from) and the render settings. Unlike nginx's key
 * it leaves out the download name (a header, added when the result is served) and the URL's
 * lifetime, so every URL asking for the same pixels shares one stored result. `cb:` stays in:
 * it is how a URL asks for a fresh render.
 */
export function resultKey(input: ResultKeyInput): string {
  const pixels: TransformPlan = { ...input.plan, expires: null, filename: null, returnAttachment: false };
  const negotiable = (input.negotiable ?? []).map((n) => `${n.format}${n.enforce ? '!' : ''}`);
  return createHash('sha256')
    .update(JSON.stringify(['r1', canonicalPlan(pixels), input.store, input.key, input.version, input.format, negotiable, input.settings]))
    .digest('hex');
}

/** The object name under the store's prefix; the first two hex digits spread fs directories. */
export function resultObjectName(prefix: string, key: string): string {
  if (!/^[0-9a-f]{64}$/.test(key)) throw new Error('result keys are 64 hex digits');
  return `${prefix}${key.slice(0, 2)}/${key}`;
}

function sortedEntries(record: Readonly<Record<string, number | undefined>>): [string, number][] {
  return Object.entries(record)
    .filter((entry): entry is [string, number] => entry[1] !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
