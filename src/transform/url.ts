// The two ways to name a transform, sharing one option table and one set of rules:
//   imgproxy:  <imgproxyPrefix>/<signature>/<option>/…/plain/<percent-encoded source>[@<ext>]
//              <imgproxyPrefix>/<signature>/<option>/…/<base64url source, may be split by "/">[.<ext>]
//   native:    <nativePrefix>/<store>/<key…>?<option>=<arg>:<arg>&…   (authorized by token + policy)
// Pure functions: no I/O; every refusal is a PublicError with imgproxy's status (403 / 404).
import { PublicError } from '../errors.js';
import { canonicalizeKey } from '../storage/key.js';
import { outputFormat } from './options/args.js';
import { buildPlan, type OptionRules } from './options/apply.js';
import { parseOptionCall, type OptionCall } from './options/call.js';
import { invalidOption, invalidSignature, invalidUrl, sourceNotAllowed } from './options/errors.js';
import { lookupOption, resolveOptionName } from './options/table.js';
import type { ParsedTransformRequest, SourceRef, TransformPlan } from './plan.js';
import { compilePresets, type PresetTable } from './presets.js';
import { signingKeys, verifySignature, type SigningKey } from './signature.js';

interface Compiled {
  readonly keys: readonly SigningKey[];
  readonly presets: PresetTable;
  readonly allowedOptions: ReadonlySet<string> | null;
  /** transform.allowedSources as anchored prefixes; null = every configured source. */
  readonly allowedSources: readonly RegExp[] | null;
}

/**
 * What URL parsing reads of the `transform` settings. Declared here, not imported from config,
 * so this pure module sits below config (which validates with transform's option table).
 */
export interface TransformUrlSettings {
  readonly keys: readonly string[];
  readonly salts: readonly string[];
  readonly signatureSize: number;
  readonly unsafeUnsigned: boolean;
  readonly presets: Readonly<Record<string, string>>;
  readonly onlyPresets: boolean;
  readonly allowedOptions?: readonly string[] | undefined;
  readonly allowedSources?: readonly string[] | undefined;
}

const compiled = new WeakMap<TransformUrlSettings, Compiled>();

/** Keys, presets and the allowed list, prepared once per configuration object. */
function prepare(config: TransformUrlSettings): Compiled {
  let entry = compiled.get(config);
  if (entry === undefined) {
    const allowed = config.allowedOptions?.map((name) => resolveOptionName(name) ?? name);
    entry = {
      keys: signingKeys(config.keys, config.salts),
      presets: compilePresets(config.presets),
      allowedOptions: allowed === undefined ? null : new Set(allowed),
      allowedSources: config.allowedSources?.map(sourcePattern) ?? null,
    };
    compiled.set(config, entry);
  }
  return entry;
}

/** In only-presets mode URLs can name nothing but presets, so the allowed list has no say. */
function rules(config: TransformUrlSettings, now: number): OptionRules {
  const { presets, allowedOptions } = prepare(config);
  return { presets, allowedOptions: config.onlyPresets ? null : allowedOptions, nowSeconds: Math.floor(now / 1000) };
}

/**
 * `path` is the raw (still percent-encoded) request path after the imgproxy prefix, starting
 * with `/<signature>/`. The query string is not signed and is ignored.
 */
export function parseImgproxyPath(path: string, config: TransformUrlSettings, now: number = Date.now()): ParsedTransformRequest {
  const raw = path.split('?')[0] as string;
  const match = /^\/([^/]+)(\/.+)$/.exec(raw);
  if (match === null) throw invalidUrl();
  const [, signature, rest] = match as unknown as [string, string, string];
  const signed = renormalize(rest);
  checkSignature(signature, signed, config);

  const segments = signed.slice(1).split('/');
  const { calls, sourceStart } = config.onlyPresets ? presetCalls(segments) : optionCalls(segments);
  let plan = buildPlan(calls, rules(config, now));
  const { url, extension } = decodeSourceUrl(segments.slice(sourceStart));
  const { allowedSources } = prepare(config);
  if (allowedSources !== null && !allowedSources.some((pattern) => pattern.test(url))) throw sourceNotAllowed();
  // `raw` passes the source through: the extension names no output format then (imgproxy)
  if (extension !== null && !plan.raw) plan = withFormat(plan, extension);
  return { plan, source: sourceRef(url) };
}

/** imgproxy's allowed-source patterns: a prefix of the source URL, `*` = anything but `/`. */
function sourcePattern(prefix: string): RegExp {
  const body = prefix
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]*');
  return new RegExp(`^${body}`);
}

/**
 * The native form's query: each parameter is one option (`rs=fit:400:300`, `pr=thumb`), run
 * through the same table, presets and allowed list as imgproxy URLs.
 */
export function parseNativeOptions(query: URLSearchParams, config: TransformUrlSettings, now: number = Date.now()): TransformPlan {
  const calls: OptionCall[] = [...query].map(([name, value]) => ({ name, args: value.split(':') }));
  const offending = config.onlyPresets ? calls.find((call) => lookupOption(call.name)?.name !== 'preset') : undefined;
  if (offending !== undefined) throw invalidOption(offending.name);
  return buildPlan(calls, rules(config, now));
}

/**
 * Undoes what proxies and browsers do to URLs, before the signature is checked (as imgproxy
 * does): `%3A` → `:` in the options, `scheme:/x` → `scheme://x` and `local:/x` → `local:///x`.
 */
function renormalize(rest: string): string {
  const segments = rest.slice(1).split('/');
  for (const [index, segment] of segments.entries()) {
    const fixed = segment.replace(/%3A/gi, ':');
    if (!fixed.includes(':')) break;
    segments[index] = fixed;
  }
  return `/${segments.join('/')}`.replace(
    /\/plain\/(\S+):\/([^/])/,
    (_m, scheme: string, first: string) => `/plain/${scheme}://${scheme === 'local' ? '/' : ''}${first}`,
  );
}

function checkSignature(signature: string, signedPath: string, config: TransformUrlSettings): void {
  const { keys } = prepare(config);
  if (keys.length === 0) {
    if (config.unsafeUnsigned) return;
    throw invalidSignature();
  }
  // Node hands raw non-ASCII request bytes over as latin1 characters: sign those bytes
  const bytes = /^[\u0000-\u00ff]*$/.test(signedPath) ? Buffer.from(signedPath, 'latin1') : Buffer.from(signedPath, 'utf8');
  if (!verifySignature(signature, bytes, keys, config.signatureSize)) throw invalidSignature();
}

interface Calls {
  readonly calls: OptionCall[];
  readonly sourceStart: number;
}

/** Segments with a `:` are options; the first one without starts the source. */
function optionCalls(segments: readonly string[]): Calls {
  const calls: OptionCall[] = [];
  for (const [index, segment] of segments.entries()) {
    const call = parseOptionCall(segment);
    if (call === null) return { calls, sourceStart: index };
    calls.push(call);
  }
  return { calls, sourceStart: segments.length };
}

/** Only-presets mode: the first segment lists presets (`a:b`, or `preset:a:b` / `pr:a:b`). */
function presetCalls(segments: readonly string[]): Calls {
  const first = segments[0] ?? '';
  const call = parseOptionCall(first);
  const names = call !== null && lookupOption(call.name)?.name === 'preset' ? call.args : first.split(':');
  return { calls: [{ name: 'preset', args: names }], sourceStart: 1 };
}

function withFormat(plan: TransformPlan, extension: string): TransformPlan {
  const format = outputFormat(extension);
  if (format === null) throw invalidOption('format');
  return { ...plan, format };
}

interface SourceUrl {
  /** The source URL's bytes, one latin1 character per byte (the form canonicalizeKey reads). */
  readonly url: string;
  readonly extension: string | null;
}

function decodeSourceUrl(parts: readonly string[]): SourceUrl {
  if (parts.length === 0) throw invalidUrl();
  if (parts[0] === 'plain' && parts.length > 1) {
    const [encoded, extension, ...more] = parts.slice(1).join('/').split('@');
    if (encoded === undefined || encoded === '' || more.length > 0) throw invalidUrl();
    return { url: percentDecode(encoded).toString('latin1'), extension: extension === undefined || extension === '' ? null : extension };
  }
  const [encoded, extension, ...more] = parts.join('').split('.');
  const base64 = (encoded ?? '').replace(/=+$/, '');
  if (base64 === '' || more.length > 0 || !/^[A-Za-z0-9_-]+$/.test(base64) || base64.length % 4 === 1) throw invalidUrl();
  return { url: Buffer.from(base64, 'base64url').toString('latin1'), extension: extension === undefined || extension === '' ? null : extension };
}

/** Go's url.PathUnescape: every `%` starts a two-digit escape; `+` stays literal. */
function percentDecode(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (char !== 0x25) {
      bytes.push(...(char <= 0xff ? [char] : Buffer.from(text.charAt(i), 'utf8')));
      continue;
    }
    const hex = text.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw invalidUrl();
    bytes.push(parseInt(hex, 16));
    i += 2;
  }
  return Buffer.from(bytes);
}

/**
 * `local:///<path>` and `s3://<bucket>/<key>`. The path and key are URL paths: their own
 * percent-escapes are decoded once, and anything that is not a clean key (`..`, empty segments,
 * control characters, bad UTF-8) is refused. The result is decoded: use it as is, never decode again.
 */
function sourceRef(url: string): SourceRef {
  if (url.startsWith('local:///')) return { kind: 'local', path: cleanKey(url.slice('local:///'.length)) };
  const s3 = /^s3:\/\/([A-Za-z0-9][A-Za-z0-9._-]{0,254})\/(.+)$/.exec(url);
  if (s3 !== null) return { kind: 's3', bucket: s3[1] as string, key: cleanKey(s3[2] as string) };
  throw sourceNotAllowed();
}

function cleanKey(rawPath: string): string {
  try {
    return canonicalizeKey(rawPath).value;
  } catch (error) {
    if (error instanceof PublicError) throw invalidUrl();
    throw error;
  }
}
