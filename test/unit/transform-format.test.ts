import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseOutputFormat, shouldSkipProcessing } from '../../src/transform/format.js';
import { DEFAULT_PLAN, type OutputFormat } from '../../src/transform/plan.js';

const CHROME = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';
const on = { negotiate: true, preferAvif: true };
const withFormat = (format: OutputFormat | null) => ({ ...DEFAULT_PLAN, format });

describe('output format choice', () => {
  it('negotiates AVIF, then WebP, from Accept when the URL names no format', () => {
    assert.deepEqual(chooseOutputFormat(DEFAULT_PLAN, 'jpeg', CHROME, on), { format: 'avif', varyAccept: true });
    assert.deepEqual(chooseOutputFormat(DEFAULT_PLAN, 'jpeg', CHROME, { ...on, preferAvif: false }), { format: 'webp', varyAccept: true });
    assert.deepEqual(chooseOutputFormat(DEFAULT_PLAN, 'jpeg', 'image/webp,*/*', on), { format: 'webp', varyAccept: true });
  });

  it('falls back to the source format, or JPEG, and still varies on Accept', () => {
    assert.deepEqual(chooseOutputFormat(DEFAULT_PLAN, 'png', 'image/png,*/*', on), { format: 'png', varyAccept: true });
    assert.deepEqual(chooseOutputFormat(DEFAULT_PLAN, 'tiff', undefined, on), { format: 'jpeg', varyAccept: true });
    assert.deepEqual(chooseOutputFormat(DEFAULT_PLAN, 'avif', undefined, on), { format: 'avif', varyAccept: true });
  });

  it('does not read wildcards or q=0 as acceptance', () => {
    assert.equal(chooseOutputFormat(DEFAULT_PLAN, 'gif', 'image/*,*/*;q=0.8', on).format, 'gif');
    assert.equal(chooseOutputFormat(DEFAULT_PLAN, 'jpeg', 'image/avif;q=0, image/webp; q=0.5', on).format, 'webp');
  });

  it('lets an explicit format win, without Vary, unless enforced', () => {
    assert.deepEqual(chooseOutputFormat(withFormat('png'), 'jpeg', CHROME, on), { format: 'png', varyAccept: false });
    assert.deepEqual(chooseOutputFormat(withFormat('png'), 'jpeg', CHROME, { ...on, enforce: true }), { format: 'avif', varyAccept: true });
    assert.deepEqual(chooseOutputFormat(withFormat('png'), 'jpeg', 'image/png', { ...on, enforce: true }), { format: 'png', varyAccept: true });
  });

  it('never consults Accept when negotiation is off', () => {
    assert.deepEqual(chooseOutputFormat(DEFAULT_PLAN, 'jpeg', CHROME, { negotiate: false, preferAvif: true }), { format: 'jpeg', varyAccept: false });
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
