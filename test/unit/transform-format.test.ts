import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideFormat, requestFormat, shouldSkipProcessing, type FormatRequest, type SourceFacts } from '../../src/transform/format.js';
import { DEFAULT_PLAN, type OutputFormat } from '../../src/transform/plan.js';

const CHROME = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';
const on = { negotiate: true, preferAvif: true };
const withFormat = (format: OutputFormat | null) => ({ ...DEFAULT_PLAN, format });
const jpeg: SourceFacts = { format: 'jpeg', animated: false, hasAlpha: false };
const source = (format: string, more: Partial<SourceFacts> = {}): SourceFacts => ({ format, animated: false, hasAlpha: false, ...more });

/** Both steps, as the app and then the worker run them. */
function finalFormat(
  plan = DEFAULT_PLAN,
  facts: SourceFacts = jpeg,
  accept: string | undefined = undefined,
  options: Parameters<typeof requestFormat>[2] = on,
): { format: OutputFormat; varyAccept: boolean } {
  const request: FormatRequest = requestFormat(plan, accept, options);
  return { format: decideFormat(plan, request, facts), varyAccept: request.varyAccept };
}

describe('output format choice', () => {
  it('negotiates AVIF, then WebP, from Accept when the URL names no format', () => {
    assert.deepEqual(finalFormat(DEFAULT_PLAN, jpeg, CHROME), { format: 'avif', varyAccept: true });
    assert.deepEqual(finalFormat(DEFAULT_PLAN, jpeg, CHROME, { ...on, preferAvif: false }), { format: 'webp', varyAccept: true });
    assert.deepEqual(finalFormat(DEFAULT_PLAN, jpeg, 'image/webp,*/*'), { format: 'webp', varyAccept: true });
  });

  it('keeps the source format found in its bytes, else PNG for transparency, GIF for animations, JPEG', () => {
    assert.deepEqual(finalFormat(DEFAULT_PLAN, source('png', { hasAlpha: true }), 'image/png,*/*'), { format: 'png', varyAccept: true });
    assert.deepEqual(finalFormat(DEFAULT_PLAN, source('gif', { animated: true })), { format: 'gif', varyAccept: true });
    assert.deepEqual(finalFormat(DEFAULT_PLAN, source('tiff')), { format: 'jpeg', varyAccept: true });
    assert.deepEqual(finalFormat(DEFAULT_PLAN, source('tiff', { hasAlpha: true })), { format: 'png', varyAccept: true });
    assert.deepEqual(finalFormat(DEFAULT_PLAN, source('avif')), { format: 'avif', varyAccept: true });
  });

  it('never negotiates AVIF for an animation (WebP or the source format instead)', () => {
    assert.equal(finalFormat(DEFAULT_PLAN, source('gif', { animated: true }), CHROME).format, 'webp');
    assert.equal(finalFormat(DEFAULT_PLAN, source('gif', { animated: true }), 'image/avif').format, 'gif');
  });

  it('does not read wildcards or q=0 as acceptance', () => {
    assert.equal(finalFormat(DEFAULT_PLAN, source('gif'), 'image/*,*/*;q=0.8').format, 'gif');
    assert.equal(finalFormat(DEFAULT_PLAN, jpeg, 'image/avif;q=0, image/webp; q=0.5').format, 'webp');
  });

  it('lets an explicit format win, without Vary, unless enforced (imgproxy ENFORCE_AVIF/WEBP)', () => {
    assert.deepEqual(finalFormat(withFormat('png'), jpeg, CHROME), { format: 'png', varyAccept: false });
    assert.deepEqual(requestFormat(withFormat('png'), CHROME, on), { fixed: 'png', negotiable: [], varyAccept: false });
    const enforced = { ...on, enforceAvif: true, enforceWebp: true };
    assert.deepEqual(finalFormat(withFormat('png'), jpeg, CHROME, enforced), { format: 'avif', varyAccept: true });
    assert.deepEqual(finalFormat(withFormat('png'), jpeg, 'image/webp', enforced), { format: 'webp', varyAccept: true });
    assert.deepEqual(finalFormat(withFormat('png'), jpeg, 'image/png', enforced), { format: 'png', varyAccept: true });
    // only the enforced format replaces the URL's
    assert.deepEqual(finalFormat(withFormat('png'), jpeg, CHROME, { ...on, enforceWebp: true }), { format: 'webp', varyAccept: true });
  });

  it('negotiates only the formats switched on (imgproxy AUTO_AVIF/AUTO_WEBP)', () => {
    assert.equal(finalFormat(DEFAULT_PLAN, jpeg, CHROME, { ...on, autoAvif: false }).format, 'webp');
    assert.deepEqual(finalFormat(DEFAULT_PLAN, jpeg, CHROME, { ...on, autoAvif: false, autoWebp: false }), { format: 'jpeg', varyAccept: false });
  });

  it('never consults Accept when negotiation is off, nor for raw', () => {
    assert.deepEqual(finalFormat(DEFAULT_PLAN, jpeg, CHROME, { negotiate: false, preferAvif: true }), { format: 'jpeg', varyAccept: false });
    assert.deepEqual(requestFormat({ ...DEFAULT_PLAN, raw: true, format: 'png' }, CHROME, { ...on, enforceAvif: true }), {
      fixed: null,
      negotiable: [],
      varyAccept: false,
    });
  });

  it('skips processing only for listed source formats that the URL does not convert', () => {
    const plan = { ...DEFAULT_PLAN, skipProcessing: ['gif', 'png'] as OutputFormat[] };
    assert.equal(shouldSkipProcessing(plan, 'gif'), true);
    assert.equal(shouldSkipProcessing(plan, 'jpeg'), false);
    assert.equal(shouldSkipProcessing({ ...plan, format: 'webp' }, 'gif'), false);
    assert.equal(shouldSkipProcessing({ ...plan, format: 'gif' }, 'gif'), true);
    assert.equal(shouldSkipProcessing(DEFAULT_PLAN, 'gif'), false);
  });
});
