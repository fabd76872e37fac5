import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { transformSchema, type TransformConfig } from '../../src/config/transform-schema.js';
import { PublicError } from '../../src/errors.js';
import { DEFAULT_PLAN, type TransformPlan } from '../../src/transform/plan.js';
import { parseImgproxyPath } from '../../src/transform/url.js';

const NOW = Date.UTC(2030, 0, 1);
const config = (extra: Record<string, unknown> = {}): TransformConfig => transformSchema.parse({ enabled: true, unsafeUnsigned: true, ...extra });
const UNSIGNED = config({ presets: { test1: 'q:50/w:10', test2: 'h:20/q:60', mark: 'wm:0.3:sowe' } });

/** The plan of an unsigned URL with these options and a local source. */
function plan(options: string, settings: TransformConfig = UNSIGNED): TransformPlan {
  return parseImgproxyPath(`/unsafe/${options}/plain/local:///img.jpg`, settings, NOW).plan;
}

function refused(options: string, reason: string | RegExp, settings: TransformConfig = UNSIGNED): void {
  assert.throws(
    () => plan(options, settings),
    (error: unknown) =>
      error instanceof PublicError && error.status === 404 && (typeof reason === 'string' ? error.reason === reason : reason.test(error.reason)),
    `expected ${options} to be refused with ${String(reason)}`,
  );
}

describe('imgproxy options: cases from imgproxy’s parser tests', () => {
  it('size sets width and height; the @ extension sets the format', () => {
    const parsed = parseImgproxyPath('/unsafe/size:100:100/plain/local:///U@png', UNSIGNED, NOW).plan;
    assert.equal(parsed.width, 100);
    assert.equal(parsed.height, 100);
    assert.equal(parsed.format, 'png');
  });

  it('resize sets type, size, enlarge and extend with its gravity', () => {
    const p = plan('resize:fill:100:200:1');
    assert.deepEqual([p.resizingType, p.width, p.height, p.enlarge, p.extend.enabled], ['fill', 100, 200, true, false]);
    const extended = plan('rs:fill-down:100:200:0:1:nowe:10:20');
    assert.deepEqual(extended.extend, { enabled: true, gravity: { type: 'nowe', x: 10, y: 20 } });
  });

  it('gravity takes a focus point, compass offsets, or smart', () => {
    assert.deepEqual(plan('gravity:fp:0.5:0.75').gravity, { type: 'fp', x: 0.5, y: 0.75 });
    assert.deepEqual(plan('g:soea:5:6').gravity, { type: 'soea', x: 5, y: 6 });
    assert.deepEqual(plan('g:sm').gravity, { type: 'sm', x: 0, y: 0 });
  });

  it('crop takes width, height and its own gravity', () => {
    assert.deepEqual(plan('crop:100:200:nowe:10:20').crop, { width: 100, height: 200, gravity: { type: 'nowe', x: 10, y: 20 } });
    assert.deepEqual(plan('c:0.5').crop, { width: 0.5, height: 0, gravity: null });
  });

  it('an empty background clears an earlier one', () => {
    assert.equal(plan('background:fff/background:').background, null);
    assert.deepEqual(plan('bg:fff').background, { r: 255, g: 255, b: 255 });
    assert.deepEqual(plan('bg:10:20:30').background, { r: 10, g: 20, b: 30 });
    assert.deepEqual(plan('bg:ff8000').background, { r: 255, g: 128, b: 0 });
  });

  it('watermark takes opacity, position, offsets and scale', () => {
    assert.deepEqual(plan('watermark:0.5:soea:10:20:0.6').watermark, { opacity: 0.5, position: 'soea', x: 10, y: 20, scale: 0.6 });
    assert.deepEqual(plan('wm:1:re').watermark, { opacity: 1, position: 're', x: 0, y: 0, scale: 0 });
    assert.equal(plan('wm:0.5/wm:0').watermark, null, 'opacity 0 removes it');
    assert.deepEqual(plan('pr:mark/wm:0.8').watermark, { opacity: 0.8, position: 'sowe', x: 0, y: 0, scale: 0 }, 'a preset’s position stays');
  });

  it('presets apply in order; later ones override earlier ones', () => {
    const p = plan('preset:test1:test2');
    assert.deepEqual([p.quality, p.width, p.height], [60, 10, 20]);
    assert.deepEqual(plan('pr:mark').watermark, { opacity: 0.3, position: 'sowe', x: 0, y: 0, scale: 0 });
  });

  it('URL options override the default preset', () => {
    const settings = config({ presets: { default: 'q:70/rs:fill:300:300' } });
    assert.equal(plan('w:10', settings).quality, 70, 'the default preset applies first');
    const p = plan('q:90', settings);
    assert.deepEqual([p.quality, p.resizingType, p.width], [90, 'fill', 300]);
  });

  for (const [options, reason] of [
    ['extend:1:sm', 'invalid option extend'],
    ['gravity:re', 'invalid option gravity'],
    ['crop:100:200:re', 'invalid option crop'],
    ['skp:jpg:png:bad_format', 'invalid option skip_processing'],
    ['rotate:45', 'invalid option rotate'],
    ['quality:101', 'invalid option quality'],
    ['dpr:0', 'invalid option dpr'],
    ['gravity:fp:1.5:0.5', 'invalid option gravity'],
    ['unknown:1', 'invalid option unknown'],
    [`exp:${NOW / 1000 - 1}`, 'Expired URL'],
  ] as const) {
    it(`refuses ${options}`, () => refused(options, reason));
  }

  it('refuses options outside the allowed list, but not those inside presets', () => {
    const settings = config({ allowedOptions: ['resize', 'q', 'pr'], presets: { wide: 'w:800' } });
    refused('w:100', 'invalid option w', settings);
    assert.equal(plan('rs:fit:10:10/quality:50', settings).quality, 50, 'aliases of an allowed option are allowed');
    assert.equal(plan('pr:wide', settings).width, 800);
    refused('pr:wide', 'invalid option pr', config({ allowedOptions: ['rs'], presets: { wide: 'w:800' } }));
  });
});

describe('imgproxy options: more accept and reject cases', () => {
  it('keeps imgproxy’s defaults when a URL has no options', () => {
    const { plan: p } = parseImgproxyPath('/unsafe/plain/local:///img.jpg', UNSIGNED, NOW);
    assert.deepEqual(p, DEFAULT_PLAN);
  });

  it('accepts Go’s boolean spellings and refuses others', () => {
    for (const yes of ['1', 't', 'T', 'true', 'TRUE', 'True']) assert.equal(plan(`el:${yes}`).enlarge, true);
    for (const no of ['0', 'f', 'F', 'false', 'FALSE', 'False']) assert.equal(plan(`el:1/el:${no}`).enlarge, false);
    refused('el:yes', 'invalid option enlarge');
  });

  it('leaves empty resize arguments unchanged', () => {
    const p = plan('w:50/rs:fill::300');
    assert.deepEqual([p.resizingType, p.width, p.height], ['fill', 50, 300]);
  });

  it('reads padding in CSS order, copying missing sides', () => {
    assert.deepEqual(plan('pd:10').padding, { top: 10, right: 10, bottom: 10, left: 10 });
    assert.deepEqual(plan('pd:10:20').padding, { top: 10, right: 20, bottom: 10, left: 20 });
    assert.deepEqual(plan('padding:1:2:3').padding, { top: 1, right: 2, bottom: 3, left: 2 });
    assert.deepEqual(plan('pd:1:2:3:4').padding, { top: 1, right: 2, bottom: 3, left: 4 });
    assert.equal(plan('pd:0').padding, null);
    refused('pd:1:2:3:4:5', 'invalid option padding');
  });

  it('normalizes rotations to 0–270 and takes flips', () => {
    assert.equal(plan('rot:-90').rotate, 270);
    assert.equal(plan('rotate:450').rotate, 90);
    assert.deepEqual(plan('fl:1:0').flip, { horizontal: true, vertical: false });
    assert.deepEqual(plan('flip::1').flip, { horizontal: false, vertical: true });
  });

  it('reads zoom, dpr, min sizes, trim and filters', () => {
    const p = plan('z:1.5:2/dpr:2/mw:30/mh:40/t:10:ff00ff:1:0/bl:2/sh:1.5/pix:5/ar:0/rt:auto');
    assert.deepEqual([p.zoomX, p.zoomY, p.dpr, p.minWidth, p.minHeight], [1.5, 2, 2, 30, 40]);
    assert.deepEqual(p.trim, { threshold: 10, color: { r: 255, g: 0, b: 255 }, equalHorizontal: true, equalVertical: false });
    assert.deepEqual([p.blur, p.sharpen, p.pixelate, p.autoRotate, p.resizingType], [2, 1.5, 5, false, 'auto']);
    assert.equal(plan('z:3').zoomY, 3, 'one zoom value sets both');
    assert.equal(plan('t:10/t:').trim, null, 'an empty threshold turns trim off');
  });

  it('reads output options', () => {
    const p = plan('q:70/fq:jpeg:60:webp:50/mb:10000/f:jpg/sm:0/kcr:0/scp:0/cb:v2/att:1/fn:photo');
    assert.deepEqual([p.quality, p.formatQuality, p.maxBytes, p.format], [70, { jpeg: 60, webp: 50 }, 10000, 'jpeg']);
    assert.deepEqual(
      [p.stripMetadata, p.keepCopyright, p.stripColorProfile, p.cacheBuster, p.returnAttachment, p.filename],
      [false, false, false, 'v2', true, 'photo'],
    );
  });

  it('lists skip_processing formats once, sorted, and tolerates imgproxy-only formats', () => {
    assert.deepEqual(plan('skp:png:jpg/skp:jpeg:svg').skipProcessing, ['jpeg', 'png']);
  });

  it('decodes base64 file names and refuses control characters in them', () => {
    assert.equal(plan(`fn:${Buffer.from('my photo').toString('base64url')}:1`).filename, 'my photo');
    assert.equal(plan('fn:bXk:0').filename, 'bXk', 'not encoded unless the flag is true');
    refused(`fn:${Buffer.from('a\r\nb').toString('base64url')}:1`, 'invalid option filename');
  });

  it('keeps a future expiry and ignores 0', () => {
    assert.equal(plan(`exp:${NOW / 1000 + 60}`).expires, NOW / 1000 + 60);
    assert.equal(plan('exp:0').expires, null);
  });

  it('lets the extension override a format option', () => {
    assert.equal(parseImgproxyPath('/unsafe/f:png/plain/local:///a.jpg@webp', UNSIGNED, NOW).plan.format, 'webp');
    assert.equal(parseImgproxyPath('/unsafe/f:png/plain/local:///a.jpg@jpg', UNSIGNED, NOW).plan.format, 'jpeg');
  });

  for (const [options, reason] of [
    ['g:sm:1', 'invalid option gravity'],
    ['g:fp:0.5', 'invalid option gravity'],
    ['g:fp:-0.1:0.5', 'invalid option gravity'],
    ['q:-1', 'invalid option quality'],
    ['w:abc', 'invalid option width'],
    ['w:1.5', 'invalid option width'],
    ['h', 'invalid URL'],
    ['bg:1:2', 'invalid option background'],
    ['bg:zzz', 'invalid option background'],
    ['bg:256:0:0', 'invalid option background'],
    ['fq:jpeg', 'invalid option format_quality'],
    ['fq:tiff:50', 'invalid option format_quality'],
    ['f:tiff', 'invalid option format'],
    ['wm:1.5', 'invalid option watermark'],
    ['wm:0.5:sm', 'invalid option watermark'],
    ['z:0', 'invalid option zoom'],
    ['rt:stretch', 'invalid option resizing_type'],
    ['pr:missing', 'invalid option preset'],
    ['exp:soon', 'invalid option expires'],
    ['mb:-5', 'invalid option max_bytes'],
    ['c:-1', 'invalid option crop'],
  ] as const) {
    it(`refuses ${options}`, () => refused(options, reason));
  }

  it('does not echo option names that are not names', () => {
    refused('<script>:1', 'invalid option');
  });
});
